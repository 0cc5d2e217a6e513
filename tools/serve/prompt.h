// From a request to the tokens to evaluate. Chat messages go through the
// chat template; the rendered text is tokenized in pieces cut at message
// boundaries, so that a conversation's earlier turns give the same tokens
// from one request to the next (the prompt cache matches tokens), and message
// contents are tokenized without parsing special tokens (only the template's
// own markup becomes control tokens).
#pragma once
#include <deltallm.h>

#include <cstdint>
#include <string>
#include <vector>

#include "serve/request.h"

namespace dllm::serve {

struct Prompt {
  std::string text;                     // the rendered prompt ("" for token prompts)
  std::vector<int32_t> tokens;
  // Token positions worth a checkpoint: the start of the last message and
  // the end of the conversation before the generation prompt (templates such
  // as Qwen3.5's render a past assistant turn unlike the prompt that opened it).
  std::vector<int64_t> checkpoint_hints;
  bool starts_in_reasoning = false;     // the generation prompt opened a <think> block
  std::string tools_json;               // the tools offered to the model ("" : none): replies are parsed for calls
};

struct TemplateOptions {
  std::string template_text;            // "" : the model's own
};

// The rendered chat text (400 when the template rejects the messages).
std::string render_chat(const deltallm_model* m, const ChatRequest& r, const TemplateOptions& t,
                        bool add_generation_prompt = true);
Prompt build_chat_prompt(const deltallm_model* m, const ChatRequest& r, const TemplateOptions& t);
Prompt build_completion_prompt(const deltallm_model* m, const CompletionRequest& r);

// Tokenizes (400 on invalid UTF-8).
std::vector<int32_t> tokenize_text(const deltallm_model* m, const std::string& text, uint32_t flags);

}  // namespace dllm::serve
