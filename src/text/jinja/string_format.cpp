#include "text/jinja/string_format.h"

#include <cmath>
#include <cstdio>

#include "text/jinja/py_format.h"
#include "text/jinja/template_error.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

// ---- printf-style formatting ------------------------------------------------

namespace {

struct Spec {
  bool left = false, zero = false, plus = false, space = false, alt = false;
  int width = -1, prec = -1;
};

std::string pad(std::string body, const Spec& sp, bool numeric) {
  int n = static_cast<int>(cp_count(body));
  if (sp.width <= n) return body;
  size_t fill = static_cast<size_t>(sp.width - n);
  if (sp.left) return body + std::string(fill, ' ');
  if (sp.zero && numeric) {
    size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    return body.substr(0, sign) + std::string(fill, '0') + body.substr(sign);
  }
  return std::string(fill, ' ') + body;
}

std::string format_int(int64_t v, char conv, const Spec& sp) {
  std::string digits;
  uint64_t mag = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  char buf[80];
  if (conv == 'x' || conv == 'X') std::snprintf(buf, sizeof buf, conv == 'x' ? "%llx" : "%llX", static_cast<unsigned long long>(mag));
  else if (conv == 'o') std::snprintf(buf, sizeof buf, "%llo", static_cast<unsigned long long>(mag));
  else std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(mag));
  digits = buf;
  if (sp.prec >= 0 && static_cast<int>(digits.size()) < sp.prec) digits.insert(0, static_cast<size_t>(sp.prec) - digits.size(), '0');
  if (sp.alt && conv == 'x') digits = "0x" + digits;
  if (sp.alt && conv == 'X') digits = "0X" + digits;
  if (sp.alt && conv == 'o') digits = "0o" + digits;
  std::string sign = v < 0 ? "-" : sp.plus ? "+" : sp.space ? " " : "";
  return pad(sign + digits, sp, true);
}

std::string format_float(double v, char conv, const Spec& sp) {
  if (std::isnan(v) || std::isinf(v)) {
    std::string s = std::isnan(v) ? "nan" : "inf";
    if (conv == 'F' || conv == 'E' || conv == 'G') s = std::isnan(v) ? "NAN" : "INF";
    std::string sign = (std::isinf(v) && v < 0) ? "-" : sp.plus ? "+" : sp.space ? " " : "";
    Spec s2 = sp;
    s2.zero = false;
    return pad(sign + s, s2, true);
  }
  std::string f = "%";
  if (sp.plus) f += '+';
  if (sp.space) f += ' ';
  if (sp.alt) f += '#';
  f += '.' + std::to_string(sp.prec < 0 ? 6 : sp.prec) + conv;
  char buf[512];
  std::snprintf(buf, sizeof buf, f.c_str(), v);
  return pad(buf, sp, true);
}

}  // namespace

std::string percent_format(const std::string& fmt, const Value& args) {
  std::vector<Value> list;
  const DictData* mapping = nullptr;
  // CPython treats any non-tuple, non-str argument with __getitem__ as a
  // mapping: no "not all arguments converted" error for it.
  bool mapping_like = false;
  if (args.is_list() && args.list().kind == ListKind::kTuple) {
    list = args.list().items;
  } else {
    if (args.is_dict()) mapping = &args.dict();
    mapping_like = args.is_dict() || args.is_undefined() || (args.is_list() && args.list().kind == ListKind::kList);
    list.push_back(args);
  }
  size_t next_arg = 0;
  bool used_mapping = false;
  std::string out;
  auto take = [&]() -> Value {
    if (next_arg >= list.size()) fail_runtime("not enough arguments for format string");
    return list[next_arg++];
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) fail_runtime("incomplete format");
    Value arg;
    bool have_arg = false;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) fail_runtime("incomplete format key");
      if (args.is_undefined()) fail_undefined(args);
      if (!mapping) fail_runtime("format requires a mapping");
      std::string key = fmt.substr(i + 1, close - i - 1);
      const Value* v = mapping->find(std::string_view(key));
      if (!v) fail_runtime("KeyError: '", key, "'");
      arg = *v;
      have_arg = true;
      used_mapping = true;
      i = close + 1;
    }
    Spec sp;
    for (; i < fmt.size(); ++i) {
      char c = fmt[i];
      if (c == '-') sp.left = true;
      else if (c == '0') sp.zero = true;
      else if (c == '+') sp.plus = true;
      else if (c == ' ') sp.space = true;
      else if (c == '#') sp.alt = true;
      else break;
    }
    auto read_num = [&](int& dst) {
      if (i < fmt.size() && fmt[i] == '*') {
        Value w = take();
        if (!(w.is_int() || w.is_bool())) fail_runtime("* wants int");
        dst = static_cast<int>(w.i());
        ++i;
        return;
      }
      if (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        dst = 0;
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') dst = dst * 10 + (fmt[i++] - '0');
      }
    };
    read_num(sp.width);
    if (sp.width < -1) {
      sp.left = true;
      sp.width = -sp.width;
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      sp.prec = 0;
      read_num(sp.prec);
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) fail_runtime("incomplete format");
    char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (!have_arg) arg = take();
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        if (conv == 'a') fail_unsupported("%a formatting");
        std::string s = conv == 's' ? py_str(arg) : py_repr(arg);
        if (sp.prec >= 0) s = to_utf8(to_u32(s).substr(0, static_cast<size_t>(sp.prec)));
        Spec s2 = sp;
        s2.zero = false;
        out += pad(s, s2, false);
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        int64_t v;
        if (arg.is_int() || arg.is_bool()) v = arg.i();
        else if (arg.is_float() && (conv == 'd' || conv == 'i' || conv == 'u')) {
          if (!std::isfinite(arg.f())) fail_runtime("cannot convert float to integer");
          v = static_cast<int64_t>(std::trunc(arg.f()));
        } else fail_runtime("%", conv, " format: a real number is required, not ", py_type_name(arg));
        out += format_int(v, conv == 'i' || conv == 'u' ? 'd' : conv, sp);
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (!arg.is_number()) fail_runtime("must be real number, not ", py_type_name(arg));
        out += format_float(arg.f(), conv, sp);
        break;
      case 'c':
        if (arg.is_string() && cp_count(arg.s()) == 1) out += pad(arg.s(), sp, false);
        else if (arg.is_int()) {
          std::string ch;
          append_utf8(ch, static_cast<char32_t>(arg.i()));
          out += pad(ch, sp, false);
        } else fail_runtime("%c requires int or char");
        break;
      default: fail_runtime("unsupported format character '", conv, "'");
    }
  }
  if (!used_mapping && !mapping_like && next_arg < list.size())
    fail_runtime("not all arguments converted during string formatting");
  return out;
}

std::string str_format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      fail_runtime("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = fmt.find('}', i);
    if (close == std::string::npos) fail_runtime("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    std::string name = field, conv, spec;
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      name = field.substr(0, colon);
    }
    size_t bang = name.find('!');
    if (bang != std::string::npos) {
      conv = name.substr(bang + 1);
      name = name.substr(0, bang);
    }
    if (!spec.empty()) fail_unsupported("format specs in str.format ('", spec, "')");
    if (name.find_first_of(".[") != std::string::npos) fail_unsupported("attribute or index fields in str.format");
    Value v;
    if (name.empty()) {
      if (auto_index >= args.pos.size()) fail_runtime("Replacement index ", auto_index, " out of range for positional args tuple");
      v = args.pos[auto_index++];
    } else if (name.find_first_not_of("0123456789") == std::string::npos) {
      size_t k = std::stoul(name);
      if (k >= args.pos.size()) fail_runtime("Replacement index ", k, " out of range for positional args tuple");
      v = args.pos[k];
    } else {
      bool found = false;
      for (const auto& [key, val] : args.kw) {
        if (key == name) {
          v = val;
          found = true;
        }
      }
      if (!found) fail_runtime("KeyError: '", name, "'");
    }
    if (conv.empty() || conv == "s") out += py_str(v);
    else if (conv == "r") out += py_repr(v);
    else fail_unsupported("conversion !", conv, " in str.format");
  }
  return out;
}

}  // namespace dllm::jinja
