#include "serve/anthropic.h"

#include "serve/api_error.h"
#include "serve/json_fields.h"

namespace dllm::serve {

namespace {

using json = nlohmann::json;

using fields::bad;
using fields::find;

std::string str_field(const json& o, const char* key, const std::string& where) {
  const json* v = find(o, key);
  if (!v || !v->is_string()) bad(where + "." + key, "must be a string");
  return *v;
}

// The text of a tool_result's content: a string or a list of text blocks.
std::string tool_result_text(const json& c, const std::string& f) {
  if (c.is_null()) return "";
  if (c.is_string()) return c;
  if (!c.is_array()) bad(f, "must be a string or a list of text blocks");
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) {
    const std::string bf = f + "[" + std::to_string(i) + "]";
    if (!c[i].is_object() || c[i].value("type", "") != "text") bad(bf, "must be a text block");
    if (i) out += "\n";
    out += str_field(c[i], "text", bf);
  }
  return out;
}

// One Anthropic message as one or more OpenAI messages (tool results become
// "tool" messages, in order, before the user's own text).
void add_message(const json& m, const std::string& f, json& out) {
  if (!m.is_object()) bad(f, "must be an object");
  const std::string role = str_field(m, "role", f);
  if (role != "user" && role != "assistant") bad(f + ".role", "'" + role + "' is not one of user, assistant");
  const json* c = find(m, "content");
  if (!c) bad(f + ".content", "is required");
  if (c->is_string()) {
    out.push_back({{"role", role}, {"content", *c}});
    return;
  }
  if (!c->is_array()) bad(f + ".content", "must be a string or a list of content blocks");
  std::string text, thinking;
  json calls = json::array();
  for (size_t i = 0; i < c->size(); ++i) {
    const std::string bf = f + ".content[" + std::to_string(i) + "]";
    const json& b = (*c)[i];
    if (!b.is_object()) bad(bf, "must be an object");
    const std::string type = str_field(b, "type", bf);
    if (type == "text") {
      if (!text.empty()) text += "\n";
      text += str_field(b, "text", bf);
    } else if (type == "thinking" && role == "assistant") {
      thinking += str_field(b, "thinking", bf);
    } else if (type == "redacted_thinking" && role == "assistant") {
      // opaque to us: nothing to render
    } else if (type == "tool_use" && role == "assistant") {
      const json* input = find(b, "input");
      if (input && !input->is_object()) bad(bf + ".input", "must be an object");
      calls.push_back({{"id", str_field(b, "id", bf)},
                       {"type", "function"},
                       {"function", {{"name", str_field(b, "name", bf)}, {"arguments", input ? *input : json::object()}}}});
    } else if (type == "tool_result" && role == "user") {
      const json* rc = find(b, "content");
      std::string result = rc ? tool_result_text(*rc, bf + ".content") : "";
      if (const json* e = find(b, "is_error"); e && e->is_boolean() && e->get<bool>()) result = "Error: " + result;
      out.push_back({{"role", "tool"}, {"tool_call_id", str_field(b, "tool_use_id", bf)}, {"content", result}});
    } else {
      bad(bf + ".type", "'" + type + "' is not supported in a " + role + " message");
    }
  }
  if (role == "user") {
    if (!text.empty()) out.push_back({{"role", "user"}, {"content", text}});
    return;
  }
  json a = {{"role", "assistant"}, {"content", text}};  // "" rather than null: every template concatenates it
  if (!thinking.empty()) a["reasoning_content"] = thinking;
  if (!calls.empty()) a["tool_calls"] = calls;
  out.push_back(a);
}

}  // namespace

json anthropic_to_openai(const json& body, bool count_only) {
  json o = json::object();
  json msgs = json::array();
  if (const json* sys = find(body, "system")) {
    if (sys->is_string()) {
      if (!sys->get<std::string>().empty()) msgs.push_back({{"role", "system"}, {"content", *sys}});
    } else {
      msgs.push_back({{"role", "system"}, {"content", tool_result_text(*sys, "system")}});
    }
  }
  const json* m = find(body, "messages");
  if (!m) bad("messages", "is required");
  if (!m->is_array() || m->empty()) bad("messages", "must be a non-empty list");
  for (size_t i = 0; i < m->size(); ++i) add_message((*m)[i], "messages[" + std::to_string(i) + "]", msgs);
  o["messages"] = msgs;

  if (const json* mt = find(body, "max_tokens")) o["max_tokens"] = *mt;  // checked by the chat parser
  else if (!count_only) bad("max_tokens", "is required");
  for (const char* k : {"temperature", "top_p", "top_k", "stream"})
    if (const json* v = find(body, k)) o[k] = *v;
  if (const json* s = find(body, "stop_sequences")) o["stop"] = *s;

  if (const json* t = find(body, "tools")) {
    if (!t->is_array()) bad("tools", "must be a list");
    json tools = json::array();
    for (size_t i = 0; i < t->size(); ++i) {
      const std::string f = "tools[" + std::to_string(i) + "]";
      const json& x = (*t)[i];
      if (!x.is_object()) bad(f, "must be an object");
      json fn = {{"name", str_field(x, "name", f)}};
      if (const json* d = find(x, "description")) fn["description"] = *d;
      const json* schema = find(x, "input_schema");
      if (!schema || !schema->is_object()) bad(f + ".input_schema", "must be an object");
      fn["parameters"] = *schema;
      tools.push_back({{"type", "function"}, {"function", fn}});
    }
    if (!tools.empty()) o["tools"] = tools;
  }
  if (const json* tc = find(body, "tool_choice")) {
    if (!tc->is_object()) bad("tool_choice", "must be an object");
    const std::string type = str_field(*tc, "type", "tool_choice");
    if (type == "none") o["tool_choice"] = "none";
    else if (type != "auto" && type != "any" && type != "tool")
      bad("tool_choice.type", "'" + type + "' is not one of auto, any, tool, none");
  }
  if (const json* th = find(body, "thinking")) {
    if (!th->is_object()) bad("thinking", "must be an object");
    const std::string type = str_field(*th, "type", "thinking");
    if (type == "enabled") {
      o["chat_template_kwargs"] = {{"enable_thinking", true}};
      if (const json* b = find(*th, "budget_tokens")) o["thinking_budget_tokens"] = *b;
    } else if (type == "disabled") {
      o["chat_template_kwargs"] = {{"enable_thinking", false}};
    } else {
      bad("thinking.type", "'" + type + "' is not one of enabled, disabled");
    }
  }
  return o;
}

std::string anthropic_stop_reason(const std::string& finish_reason, bool has_calls, bool hit_stop_sequence) {
  if (finish_reason == "length") return "max_tokens";
  if (has_calls) return "tool_use";
  if (hit_stop_sequence) return "stop_sequence";
  return "end_turn";
}

json anthropic_tool_use(const std::string& message_id, size_t i, const ToolCall& c) {
  return {{"type", "tool_use"},
          {"id", "toolu_" + message_id + "_" + std::to_string(i)},
          {"name", c.name},
          {"input", json::parse(c.arguments)}};
}

json anthropic_error(int status, const std::string& message) {
  const char* type = status == 401   ? "authentication_error"
                     : status == 404 ? "not_found_error"
                     : status == 413 ? "request_too_large"
                     : status == 429 ? "rate_limit_error"
                     : status == 503 ? "overloaded_error"
                     : status >= 500 ? "api_error"
                                     : "invalid_request_error";
  return {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
}

}  // namespace dllm::serve
