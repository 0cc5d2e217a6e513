// What a request asks for, checked: the OpenAI JSON of /v1/chat/completions
// and /v1/completions turned into plain structs. Every bad field becomes an
// ApiError 400 that names it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dllm::serve {

// Sampling and stopping of one request (server defaults, then the request's fields).
struct GenParams {
  float temp = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.95f, min_p = 0.05f;
  int32_t repeat_last_n = 64;
  float repeat_penalty = 1.0f, presence_penalty = 0.0f, frequency_penalty = 0.0f;
  std::optional<uint32_t> seed;                 // unset: random
  std::vector<std::pair<int32_t, float>> logit_bias;
  int64_t max_tokens = -1;                      // -1: until the end of the context
  std::vector<std::string> stop;
  int top_logprobs = -1;                        // -1: no logprobs; else logprobs with this many alternatives
  bool stream = false;
  bool include_usage = false;                   // stream_options.include_usage
  int64_t reasoning_budget = -1;                // thinking tokens before the server closes the block (-1: no limit)
};

struct ChatRequest {
  nlohmann::ordered_json messages;              // normalised: content is a string or null, developer -> system
  std::string tools_json;                       // "" when none
  int enable_thinking = -1;                     // chat_template_kwargs.enable_thinking (-1: undefined)
  std::string template_kwargs_json;             // the other chat_template_kwargs (a JSON object), or empty
  GenParams gen;
};

struct CompletionRequest {
  std::optional<std::string> prompt_text;       // a string prompt (special tokens parsed, as `run -p`)
  std::vector<int32_t> prompt_tokens;           // or token ids
  GenParams gen;
};

// Parses a body as JSON (400 "invalid JSON ..." otherwise) that must be an object.
nlohmann::json parse_body(const std::string& body);

// The first template variable in `kwargs` that the server sets itself
// (messages, tools, add_generation_prompt, bos_token, eos_token), or nullptr.
const char* reserved_template_kwarg(const nlohmann::json& kwargs);

// `defaults` carries the server's sampling flags; n_vocab bounds logit_bias ids;
// kwargs_defaults are --chat-template-kwargs.
ChatRequest parse_chat_request(const nlohmann::json& body, const GenParams& defaults, int32_t n_vocab,
                               const nlohmann::json& kwargs_defaults);
CompletionRequest parse_completion_request(const nlohmann::json& body, const GenParams& defaults, int32_t n_vocab);

// A list of token ids (each in [0, n_vocab)) at body[field].
std::vector<int32_t> parse_token_list(const nlohmann::json& value, const std::string& field, int32_t n_vocab);

}  // namespace dllm::serve
