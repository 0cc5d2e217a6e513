#include "serve/tool_calls.h"

#include <cctype>

namespace dllm::serve {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kOpen = "<tool_call>";
constexpr const char* kClose = "</tool_call>";
constexpr size_t kOpenLen = 11, kCloseLen = 12;
constexpr const char* kSpace = " \t\r\n";

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

bool all_space(const std::string& s) { return s.find_first_not_of(kSpace) == std::string::npos; }

// The declared function of that name, or nullptr. Accepts both OpenAI's
// {type: "function", function: {...}} and a bare {name, parameters}.
const json* find_function(const json& tools, const std::string& name) {
  if (!tools.is_array()) return nullptr;
  for (const json& t : tools) {
    const json& f = t.contains("function") ? t["function"] : t;
    if (f.is_object() && f.value("name", "") == name) return &f;
  }
  return nullptr;
}

const json& parameter_schema(const json& fn, const std::string& param) {
  static const json kNone = json::object();
  const auto p = fn.find("parameters");
  if (p == fn.end() || !p->is_object()) return kNone;
  const auto props = p->find("properties");
  if (props == p->end() || !props->is_object()) return kNone;
  const auto s = props->find(param);
  return s == props->end() ? kNone : *s;
}

// The schema's types in order: "type" (a string or a list), else those of anyOf/oneOf.
std::vector<std::string> schema_types(const json& schema) {
  std::vector<std::string> out;
  if (!schema.is_object()) return out;
  if (auto t = schema.find("type"); t != schema.end()) {
    if (t->is_string()) out.push_back(*t);
    if (t->is_array())
      for (const json& x : *t)
        if (x.is_string()) out.push_back(x);
  }
  for (const char* k : {"anyOf", "oneOf"})
    if (auto a = schema.find(k); a != schema.end() && a->is_array())
      for (const json& sub : *a)
        for (const std::string& t : schema_types(sub)) out.push_back(t);
  return out;
}

bool is_integer_text(const std::string& s) {
  size_t i = s[0] == '-' ? 1 : 0;
  if (i >= s.size() || s.size() - i > 18) return false;  // fits int64
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

// "\nvalue\n" -> "value": the templates put the value on its own lines.
std::string strip_one_newline(std::string v) {
  if (!v.empty() && v.front() == '\n') v.erase(0, 1);
  if (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

bool parse_json_body(const std::string& body, const json& tools, ToolCall* out) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return false;
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string() || !find_function(tools, *name)) return false;
  ojson args = ojson::object();
  auto a = j.find("arguments");
  if (a == j.end()) a = j.find("parameters");
  if (a != j.end()) {
    args = a->is_string() ? ojson::parse(a->get<std::string>(), nullptr, false) : ojson(*a);
    if (!args.is_object()) return false;
  }
  out->name = *name;
  out->arguments = args.dump();
  return true;
}

bool parse_xml_body(const std::string& body, const json& tools, ToolCall* out) {
  static const std::string kFn = "<function=", kFnEnd = "</function>", kP = "<parameter=", kPEnd = "</parameter>";
  if (body.compare(0, kFn.size(), kFn) != 0) return false;
  const size_t name_end = body.find('>', kFn.size());
  if (name_end == std::string::npos) return false;
  const std::string name = trim(body.substr(kFn.size(), name_end - kFn.size()));
  const json* fn = find_function(tools, name);
  if (!fn) return false;
  ojson args = ojson::object();
  size_t pos = name_end + 1;
  for (;;) {
    const size_t next = body.find_first_not_of(kSpace, pos);
    if (next == std::string::npos) return false;  // no </function>
    if (body.compare(next, kFnEnd.size(), kFnEnd) == 0) {
      if (!all_space(body.substr(next + kFnEnd.size()))) return false;
      break;
    }
    if (body.compare(next, kP.size(), kP) != 0) return false;
    const size_t pname_end = body.find('>', next + kP.size());
    if (pname_end == std::string::npos) return false;
    const std::string pname = trim(body.substr(next + kP.size(), pname_end - next - kP.size()));
    const size_t vend = body.find(kPEnd, pname_end + 1);
    if (pname.empty() || vend == std::string::npos) return false;
    const std::string raw = strip_one_newline(body.substr(pname_end + 1, vend - pname_end - 1));
    args[pname] = typed_parameter(raw, parameter_schema(*fn, pname));
    pos = vend + kPEnd.size();
  }
  out->name = name;
  out->arguments = args.dump();
  return true;
}

}  // namespace

json typed_parameter(const std::string& raw, const json& schema) {
  const std::string t = trim(raw);
  for (const std::string& type : schema_types(schema)) {
    if (type == "string") return raw;
    if (type == "integer" && !t.empty() && is_integer_text(t)) return json(std::stoll(t));
    if (type == "number") {
      const json v = json::parse(t, nullptr, false);
      if (v.is_number()) return v;
    }
    if (type == "boolean" && (t == "true" || t == "false")) return t == "true";
    if (type == "null" && t == "null") return nullptr;
    if (type == "object" || type == "array") {
      const ojson v = ojson::parse(t, nullptr, false);
      if ((type == "object" && v.is_object()) || (type == "array" && v.is_array())) return json::parse(v.dump());
    }
  }
  // No type, or none that fits: a JSON value if it is one, else the text.
  const json v = json::parse(t, nullptr, false);
  return v.is_discarded() || t.empty() ? json(raw) : v;
}

bool parse_tool_call_body(const std::string& body, const json& tools, ToolCall* out) {
  const std::string b = trim(body);
  if (b.empty()) return false;
  return b[0] == '{' ? parse_json_body(b, tools, out) : parse_xml_body(b, tools, out);
}

void ToolCallStream::push(const std::string& delta, std::string* text, std::vector<ToolCall>* calls) {
  buf_ += delta;
  run(false, text, calls);
}

void ToolCallStream::flush(std::string* text, std::vector<ToolCall>* calls) { run(true, text, calls); }

void ToolCallStream::emit(const std::string& s, std::string* text) {
  if (s.empty()) return;
  // Blank space after a call belongs to the markup unless text follows it.
  if (after_call_) {
    if (all_space(s)) {
      held_space_ += s;
      return;
    }
    *text += held_space_;
    held_space_.clear();
    after_call_ = false;
  }
  *text += s;
}

void ToolCallStream::run(bool final, std::string* text, std::vector<ToolCall>* calls) {
  for (;;) {
    const size_t open = buf_.find(kOpen);
    if (open == std::string::npos) {
      // Keep a suffix that may be the start of "<tool_call>".
      size_t keep = 0;
      if (!final)
        for (size_t n = std::min(buf_.size(), kOpenLen - 1); n > 0 && keep == 0; --n)
          if (buf_.compare(buf_.size() - n, n, kOpen, 0, n) == 0) keep = n;
      emit(buf_.substr(0, buf_.size() - keep), text);
      buf_.erase(0, buf_.size() - keep);
      break;
    }
    emit(buf_.substr(0, open), text);
    buf_.erase(0, open);
    const size_t close = buf_.find(kClose, kOpenLen);
    if (close == std::string::npos) {
      if (!final) return;
      emit(buf_, text);  // cut off inside a call: what was generated stays text
      buf_.clear();
      break;
    }
    ToolCall c;
    if (parse_tool_call_body(buf_.substr(kOpenLen, close - kOpenLen), tools_, &c)) {
      calls->push_back(std::move(c));
      after_call_ = true;
      held_space_.clear();
    } else {
      emit(buf_.substr(0, close + kCloseLen), text);
    }
    buf_.erase(0, close + kCloseLen);
  }
  if (final) held_space_.clear();
}

}  // namespace dllm::serve
