#include "serve/request.h"

#include <algorithm>
#include <cmath>

#include "serve/api_error.h"
#include "serve/json_fields.h"

namespace dllm::serve {
namespace {

using json = nlohmann::json;

using fields::bad;
using fields::find;

double number(const json& v, const std::string& field, double lo, double hi) {
  if (!v.is_number()) bad(field, "must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) bad(field, "must be in [" + json(lo).dump() + ", " + json(hi).dump() + "]");
  return x;
}

int64_t integer(const json& v, const std::string& field, int64_t lo, int64_t hi) {
  if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
    bad(field, "must be an integer");
  const double d = v.get<double>();
  if (d < double(lo) || d > double(hi)) bad(field, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v.is_number_unsigned() ? int64_t(v.get<uint64_t>()) : v.is_number_integer() ? v.get<int64_t>() : int64_t(d);
}

bool boolean(const json& v, const std::string& field) {
  if (!v.is_boolean()) bad(field, "must be true or false");
  return v.get<bool>();
}

// The sampling and stopping fields shared by both endpoints.
GenParams parse_gen(const json& b, GenParams g, int32_t n_vocab) {
  if (auto* v = find(b, "temperature")) g.temp = float(number(*v, "temperature", 0, 100));
  if (auto* v = find(b, "top_p")) g.top_p = float(number(*v, "top_p", 0, 1));
  if (auto* v = find(b, "top_k")) g.top_k = int32_t(integer(*v, "top_k", -1, 1 << 30));
  if (auto* v = find(b, "min_p")) g.min_p = float(number(*v, "min_p", 0, 1));
  if (auto* v = find(b, "seed")) {
    const int64_t s = integer(*v, "seed", INT64_MIN / 2, INT64_MAX / 2);
    if (s >= 0) g.seed = uint32_t(uint64_t(s) % 0xFFFFFFFFu);  // 0xFFFFFFFF means "random" in the C API
    else g.seed.reset();
  }
  if (auto* v = find(b, "presence_penalty")) g.presence_penalty = float(number(*v, "presence_penalty", -2, 2));
  if (auto* v = find(b, "frequency_penalty")) g.frequency_penalty = float(number(*v, "frequency_penalty", -2, 2));
  if (auto* v = find(b, "repeat_penalty")) g.repeat_penalty = float(number(*v, "repeat_penalty", 0, 100));
  if (auto* v = find(b, "repeat_last_n")) g.repeat_last_n = int32_t(integer(*v, "repeat_last_n", -1, 1 << 24));
  if (auto* v = find(b, "logit_bias")) {
    if (!v->is_object()) bad("logit_bias", "must be an object of token id -> bias");
    g.logit_bias.clear();
    for (auto it = v->begin(); it != v->end(); ++it) {
      const std::string field = "logit_bias." + it.key();
      char* end = nullptr;
      const long id = std::strtol(it.key().c_str(), &end, 10);
      if (it.key().empty() || *end != '\0' || id < 0 || id >= n_vocab)
        bad(field, "is not a token id in [0, " + std::to_string(n_vocab) + ")");
      g.logit_bias.emplace_back(int32_t(id), float(number(it.value(), field, -100, 100)));
    }
  }
  for (const char* key : {"max_tokens", "max_completion_tokens", "n_predict"})
    if (auto* v = find(b, key)) g.max_tokens = integer(*v, key, 0, int64_t(1) << 30);
  if (auto* v = find(b, "stop")) {
    g.stop.clear();
    if (v->is_string()) {
      g.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > 16) bad("stop", "may hold at most 16 strings");
      for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string()) bad("stop[" + std::to_string(i) + "]", "must be a string");
        g.stop.push_back((*v)[i].get<std::string>());
      }
    } else {
      bad("stop", "must be a string or a list of strings");
    }
    for (size_t i = 0; i < g.stop.size(); ++i)
      if (g.stop[i].empty()) bad("stop", "must not hold an empty string");
  }
  if (auto* v = find(b, "n"); v && integer(*v, "n", 1, 1 << 20) != 1) bad("n", "must be 1 (one choice per request)");
  if (auto* v = find(b, "stream")) g.stream = boolean(*v, "stream");
  if (auto* v = find(b, "stream_options")) {
    if (!v->is_object()) bad("stream_options", "must be an object");
    if (auto* u = find(*v, "include_usage")) g.include_usage = boolean(*u, "stream_options.include_usage");
  }
  return g;
}

// "content": a string, null, or a list of {"type": "text", "text": ...} parts (joined by newlines).
json normalise_content(const json& c, const std::string& field) {
  if (c.is_null() || c.is_string()) return c;
  if (!c.is_array()) bad(field, "must be a string, null or a list of text parts");
  std::string text;
  for (size_t j = 0; j < c.size(); ++j) {
    const std::string pf = field + "[" + std::to_string(j) + "]";
    const json& part = c[j];
    if (!part.is_object()) bad(pf, "must be an object");
    auto t = part.find("type");
    if (t == part.end() || !t->is_string()) bad(pf + ".type", "must be a string");
    if (*t != "text") bad(pf + ".type", "'" + t->get<std::string>() + "' is not supported (only text parts)");
    auto tx = part.find("text");
    if (tx == part.end() || !tx->is_string()) bad(pf + ".text", "must be a string");
    if (j) text += "\n";
    text += tx->get<std::string>();
  }
  return text;
}

}  // namespace

// Deepest nesting of arrays and objects in JSON text (strings skipped). The
// JSON library copies and prints values recursively: a body of a million
// brackets would overflow the stack, so such bodies are refused first.
size_t nesting_depth(const std::string& text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

json parse_body(const std::string& body) {
  constexpr size_t kMaxDepth = 64;
  if (nesting_depth(body) > kMaxDepth)
    throw ApiError(400, "the request body nests arrays and objects deeper than " + std::to_string(kMaxDepth));
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return j;
}

std::vector<int32_t> parse_token_list(const json& v, const std::string& field, int32_t n_vocab) {
  if (!v.is_array()) bad(field, "must be a list of token ids");
  std::vector<int32_t> ids;
  ids.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    ids.push_back(int32_t(integer(v[i], field + "[" + std::to_string(i) + "]", 0, n_vocab - 1)));
  return ids;
}

ChatRequest parse_chat_request(const json& b, const GenParams& defaults, int32_t n_vocab, const json& kwargs_defaults) {
  ChatRequest r;
  auto* msgs = find(b, "messages");
  if (!msgs) bad("messages", "is required");
  if (!msgs->is_array()) bad("messages", "must be a list of messages");
  if (msgs->empty()) bad("messages", "must not be empty");
  r.messages = nlohmann::ordered_json::array();
  for (size_t i = 0; i < msgs->size(); ++i) {
    const std::string f = "messages[" + std::to_string(i) + "]";
    const json& m = (*msgs)[i];
    if (!m.is_object()) bad(f, "must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) bad(f + ".role", "must be a string");
    std::string rs = role->get<std::string>();
    if (rs != "system" && rs != "developer" && rs != "user" && rs != "assistant" && rs != "tool")
      bad(f + ".role", "'" + rs + "' is not one of system, developer, user, assistant, tool");
    if (rs == "developer") rs = "system";  // the templates know "system"
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    out["role"] = rs;
    auto content = m.find("content");
    if (content == m.end()) {
      if (rs != "assistant") bad(f + ".content", "is required");
      out["content"] = "";
    } else {
      out["content"] = normalise_content(*content, f + ".content");
      if (out["content"].is_null() && rs != "assistant") bad(f + ".content", "must be a string for role " + rs);
      // An assistant turn that only calls tools has content null (OpenAI's
      // clients send it so); templates concatenate content, so it goes in as "".
      if (out["content"].is_null()) out["content"] = "";
    }
    for (const char* key : {"name", "tool_call_id", "reasoning_content"}) {
      auto it = m.find(key);
      if (it == m.end() || it->is_null()) continue;
      if (!it->is_string()) bad(f + "." + key, "must be a string");
      out[key] = *it;
    }
    if (auto it = m.find("tool_calls"); it != m.end() && !it->is_null()) {
      if (!it->is_array()) bad(f + ".tool_calls", "must be a list");
      out["tool_calls"] = *it;
      // OpenAI clients send function.arguments as a JSON string; the templates
      // iterate it as a mapping (arguments|items), so it goes in as an object.
      for (auto& call : out["tool_calls"]) {
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
        auto& fn = call["function"];
        if (auto a = fn.find("arguments"); a != fn.end() && a->is_string()) {
          nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(a->get<std::string>(), nullptr, false);
          if (parsed.is_object()) *a = std::move(parsed);
        }
      }
    }
    r.messages.push_back(std::move(out));
  }
  if (auto* t = find(b, "tools")) {
    if (!t->is_array()) bad("tools", "must be a list of tool definitions");
    for (size_t i = 0; i < t->size(); ++i)
      if (!(*t)[i].is_object()) bad("tools[" + std::to_string(i) + "]", "must be an object");
    if (!t->empty()) r.tools_json = t->dump();
  }
  if (auto* tc = find(b, "tool_choice")) {
    if (!tc->is_string() && !tc->is_object()) bad("tool_choice", "must be a string or an object");
    if (tc->is_string() && *tc == "none") r.tools_json.clear();  // the model is not to call tools: do not offer them
  }
  json kwargs = kwargs_defaults.is_object() ? kwargs_defaults : json::object();
  // reasoning_effort (OpenAI's knob) switches thinking on or off; an explicit
  // chat_template_kwargs.enable_thinking in the request wins over it.
  if (auto* e = find(b, "reasoning_effort"); e && !e->is_null()) {
    const std::string v = e->is_string() ? e->get<std::string>() : "";
    if (v == "none" || v == "minimal") kwargs["enable_thinking"] = false;
    else if (v == "low" || v == "medium" || v == "high") kwargs["enable_thinking"] = true;
    else bad("reasoning_effort", "must be one of none, minimal, low, medium, high");
  }
  if (auto* k = find(b, "chat_template_kwargs")) {
    if (!k->is_object()) bad("chat_template_kwargs", "must be an object");
    for (auto it = k->begin(); it != k->end(); ++it) kwargs[it.key()] = it.value();
  }
  if (auto it = kwargs.find("enable_thinking"); it != kwargs.end()) {
    if (!it->is_null()) r.enable_thinking = boolean(*it, "chat_template_kwargs.enable_thinking") ? 1 : 0;
    kwargs.erase(it);  // passed as its own parameter
  }
  if (const char* reserved = reserved_template_kwarg(kwargs))
    bad(std::string("chat_template_kwargs.") + reserved, "is set by the server, not by template kwargs");
  if (!kwargs.empty()) r.template_kwargs_json = kwargs.dump();
  r.gen = parse_gen(b, defaults, n_vocab);
  if (auto* v = find(b, "thinking_budget_tokens"); v && !v->is_null())
    r.gen.reasoning_budget = integer(*v, "thinking_budget_tokens", 0, int64_t(1) << 30);
  if (auto* v = find(b, "logprobs"); v && boolean(*v, "logprobs")) {
    r.gen.top_logprobs = 0;
    if (auto* t = find(b, "top_logprobs")) r.gen.top_logprobs = int(integer(*t, "top_logprobs", 0, 20));
  } else if (find(b, "top_logprobs")) {
    bad("top_logprobs", "needs \"logprobs\": true");
  }
  return r;
}

const char* reserved_template_kwarg(const json& kwargs) {
  for (const char* name : {"messages", "tools", "add_generation_prompt", "bos_token", "eos_token"})
    if (kwargs.contains(name)) return name;
  return nullptr;
}

CompletionRequest parse_completion_request(const json& b, const GenParams& defaults, int32_t n_vocab) {
  CompletionRequest r;
  auto* p = find(b, "prompt");
  if (!p) bad("prompt", "is required");
  if (p->is_string()) {
    r.prompt_text = p->get<std::string>();
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt_text = (*p)[0].get<std::string>();
  } else if (p->is_array()) {
    r.prompt_tokens = parse_token_list(*p, "prompt", n_vocab);
  } else {
    bad("prompt", "must be a string or a list of token ids");
  }
  r.gen = parse_gen(b, defaults, n_vocab);
  if (auto* v = find(b, "thinking_budget_tokens"); v && !v->is_null())
    r.gen.reasoning_budget = integer(*v, "thinking_budget_tokens", 0, int64_t(1) << 30);
  if (auto* v = find(b, "logprobs")) {
    if (v->is_boolean()) r.gen.top_logprobs = v->get<bool>() ? 0 : -1;
    else r.gen.top_logprobs = int(integer(*v, "logprobs", 0, 20));  // the legacy API gives a count
  }
  return r;
}

}  // namespace dllm::serve
