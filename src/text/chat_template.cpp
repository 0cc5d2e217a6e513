#include "text/chat_template.h"

#include "text/jinja/json_value.h"
#include "util/error.h"

namespace dllm {

ChatTemplate::ChatTemplate(std::string_view source) : tmpl_(source) {}

static void check_messages(const nlohmann::ordered_json& messages) {
  if (!messages.is_array()) fail("chat messages must be a JSON array, got ", messages.type_name());
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (!m.is_object()) fail("chat message ", i, " must be a JSON object, got ", m.type_name());
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) fail("chat message ", i, " has no string \"role\"");
    auto calls = m.find("tool_calls");
    if (calls != m.end() && !calls->is_array() && !calls->is_null())
      fail("chat message ", i, ": \"tool_calls\" must be an array");
  }
}

std::string ChatTemplate::apply(const ChatTemplateInput& in) const {
  check_messages(in.messages);
  if (in.tools && !in.tools->is_array() && !in.tools->is_null())
    fail("chat tools must be a JSON array, got ", in.tools->type_name());
  if (!in.extra_vars.is_object()) fail("chat template variables must be a JSON object");

  // The variables Hugging Face's apply_chat_template passes: messages, tools,
  // add_generation_prompt, the special tokens, and template kwargs such as
  // enable_thinking.
  std::vector<std::pair<std::string, jinja::Value>> vars;
  for (const auto& [k, v] : in.extra_vars.items()) vars.emplace_back(k, jinja::from_json(v));
  vars.emplace_back("messages", jinja::from_json(in.messages));
  if (in.tools) vars.emplace_back("tools", jinja::from_json(*in.tools));
  vars.emplace_back("add_generation_prompt", jinja::Value::boolean(in.add_generation_prompt));
  if (in.enable_thinking) vars.emplace_back("enable_thinking", jinja::Value::boolean(*in.enable_thinking));
  vars.emplace_back("bos_token", jinja::Value::string(in.bos_token));
  vars.emplace_back("eos_token", jinja::Value::string(in.eos_token));

  jinja::RenderEnv env;
  if (in.now) {
    std::time_t t = *in.now;
    env.now = [t] { return t; };
  }
  return tmpl_.render(vars, env);
}

}  // namespace dllm
