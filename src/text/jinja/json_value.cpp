#include "text/jinja/json_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "text/jinja/py_format.h"
#include "text/jinja/template_error.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

Value from_json(const nlohmann::ordered_json& j) {
  // Containers check their depth (kMaxValueDepth) as they are built, but the
  // recursion here must stop before that.
  thread_local uint32_t depth = 0;
  if (depth > kMaxValueDepth) fail_unsupported("input JSON nested more than ", kMaxValueDepth, " levels deep");
  ++depth;
  struct Pop {
    ~Pop() { --depth; }
  } pop;
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null: return Value::none();
    case T::boolean: return Value::boolean(j.get<bool>());
    case T::number_integer: return Value::integer(j.get<int64_t>());
    case T::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) fail_unsupported("integer ", u, " in the input is beyond 64-bit range");
      return Value::integer(static_cast<int64_t>(u));
    }
    case T::number_float: return Value::number(j.get<double>());
    case T::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (!utf8_valid(s)) throw Error("chat template input: a string is not valid UTF-8");
      return Value::string(s);
    }
    case T::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return Value::list(std::move(items));
    }
    case T::object: {
      DictData d;
      d.items.reserve(j.size());
      for (const auto& [k, e] : j.items()) d.set(Value::string(k), from_json(e));
      return Value::dict(std::move(d));
    }
    default: throw Error("chat template input: unsupported JSON value (binary or discarded)");
  }
}

namespace {

void dump_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  char buf[16];
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c == 0x7F)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c < 0x80 || !ensure_ascii) {
      out += static_cast<char>(c);
    } else {
      // ensure_ascii: \uXXXX, astral planes as a surrogate pair (lowercase hex).
      size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      std::u32string u = to_u32(s.substr(i, len));
      i += len - 1;
      char32_t cp = u[0];
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + static_cast<unsigned>(cp >> 10),
                      0xDC00 + static_cast<unsigned>(cp & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      }
      out += buf;
    }
  }
  out += '"';
}

std::string json_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return py_float_repr(d);
}

struct Dumper {
  const JsonDumpOptions& opt;
  std::string item_sep, key_sep;
  std::string out;

  void newline(int level) {
    out += '\n';
    for (int i = 0; i < level; ++i) out += *opt.indent;
  }

  std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Value::Kind::kString: return k.s();
      case Value::Kind::kBool: return k.b() ? "true" : "false";
      case Value::Kind::kNone: return "null";
      case Value::Kind::kInt: return std::to_string(k.i());
      case Value::Kind::kFloat: return json_float(k.f());
      default: fail_runtime("keys must be str, int, float, bool or None, not ", py_type_name(k));
    }
  }

  void dump(const Value& v, int level) {
    switch (v.kind()) {
      case Value::Kind::kNone: out += "null"; return;
      case Value::Kind::kBool: out += v.b() ? "true" : "false"; return;
      case Value::Kind::kInt: out += std::to_string(v.i()); return;
      case Value::Kind::kFloat: out += json_float(v.f()); return;
      case Value::Kind::kString: dump_string(out, v.s(), opt.ensure_ascii); return;
      case Value::Kind::kList: {
        const ListData& l = v.list();
        if (l.kind != ListKind::kList && l.kind != ListKind::kTuple) break;
        if (l.items.empty()) {
          out += "[]";
          return;
        }
        out += '[';
        if (opt.indent) newline(level + 1);
        for (size_t i = 0; i < l.items.size(); ++i) {
          if (i) {
            out += item_sep;
            if (opt.indent) newline(level + 1);
          }
          dump(l.items[i], level + 1);
        }
        if (opt.indent) newline(level);
        out += ']';
        return;
      }
      case Value::Kind::kDict: {
        const DictData& d = v.dict();
        if (d.items.empty()) {
          out += "{}";
          return;
        }
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& kv : d.items) items.push_back(&kv);
        if (opt.sort_keys) {
          std::stable_sort(items.begin(), items.end(),
                           [](const auto* a, const auto* b) { return py_less(a->first, b->first); });
        }
        out += '{';
        if (opt.indent) newline(level + 1);
        bool first = true;
        for (const auto* kv : items) {
          if (!first) {
            out += item_sep;
            if (opt.indent) newline(level + 1);
          }
          first = false;
          dump_string(out, key_text(kv->first), opt.ensure_ascii);
          out += key_sep;
          dump(kv->second, level + 1);
        }
        if (opt.indent) newline(level);
        out += '}';
        return;
      }
      default: break;
    }
    fail_runtime("Object of type ", py_type_name(v), " is not JSON serializable");
  }
};

}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& opt) {
  Dumper d{opt, opt.item_sep.value_or(opt.indent ? "," : ", "), opt.key_sep.value_or(": "), {}};
  d.dump(v, 0);
  return std::move(d.out);
}

}  // namespace dllm::jinja
