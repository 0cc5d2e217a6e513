// Chat templates: OpenAI-style messages (and tools) -> the prompt text a
// model expects, by rendering the model's own Jinja template
// (tokenizer.chat_template) with the variables Hugging Face passes.
#pragma once
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "text/jinja/template.h"

namespace dllm {

struct ChatTemplateInput {
  // JSON array of messages: {"role", "content" (string, null or parts),
  // "reasoning_content", "tool_calls" [{"function": {"name", "arguments"
  // (object or string)}}], "tool_call_id", ...}; passed to the template as is.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  // Tool definitions; nullopt leaves `tools` undefined in the template.
  std::optional<nlohmann::ordered_json> tools;
  bool add_generation_prompt = true;
  // nullopt leaves `enable_thinking` undefined (templates then think).
  std::optional<bool> enable_thinking;
  std::string bos_token;  // texts of the model's BOS/EOS tokens, or empty
  std::string eos_token;
  // Further template variables (a JSON object), e.g. {"date_string": ...}.
  nlohmann::ordered_json extra_vars = nlohmann::ordered_json::object();
  // The time strftime_now() formats; nullopt: now.
  std::optional<std::time_t> now;
};

class ChatTemplate {
 public:
  // Parses the template once; throws jinja::TemplateError (a dllm::Error).
  explicit ChatTemplate(std::string_view source);

  // Renders. Throws dllm::Error for malformed input (messages not an array of
  // objects with a string role, tools not an array, extra_vars not an object)
  // and jinja::TemplateError for a template error, including the template's
  // own raise_exception().
  std::string apply(const ChatTemplateInput& in) const;

 private:
  jinja::Template tmpl_;
};

}  // namespace dllm
