#include "text/jinja/py_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "text/jinja/template_error.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then CPython's layout rule for repr(): fixed
  // notation while the decimal point position is in (-4, 16], else exponent.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  std::string out;
  size_t pos = 0;
  if (sci[0] == '-') {
    out += '-';
    pos = 1;
  }
  size_t e = sci.find('e');
  std::string digits;
  for (size_t i = pos; i < e; ++i)
    if (sci[i] != '.') digits += sci[i];
  int exp10 = std::stoi(sci.substr(e + 1));
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int decpt = exp10 + 1;  // value = 0.DIGITS * 10^decpt
  const int nd = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out += digits.substr(1);
    }
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    out += eb;
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt < nd) {
    out += digits.substr(0, static_cast<size_t>(decpt));
    out += '.';
    out += digits.substr(static_cast<size_t>(decpt));
  } else {
    out += digits;
    out.append(static_cast<size_t>(decpt - nd), '0');
    out += ".0";
  }
  return out;
}

std::string py_repr_string(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  std::u32string u = to_u32(s);
  char buf[16];
  for (char32_t c : u) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c < 0x7F || py_isprintable(c)) {
      append_utf8(out, c);
    } else if (c < 0x100) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  out += quote;
  return out;
}

static void repr_into(std::string& out, const Value& v);

static void repr_seq(std::string& out, const std::vector<Value>& items, const char* open, const char* close) {
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    repr_into(out, items[i]);
  }
  out += close;
}

static void repr_into(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: out += "Undefined"; return;
    case Value::Kind::kString:
      if (v.markup()) {
        out += "Markup(" + py_repr_string(v.s()) + ")";
      } else {
        out += py_repr_string(v.s());
      }
      return;
    case Value::Kind::kList: {
      const ListData& l = v.list();
      switch (l.kind) {
        case ListKind::kList: repr_seq(out, l.items, "[", "]"); return;
        case ListKind::kTuple:
          if (l.items.size() == 1) {
            out += '(';
            repr_into(out, l.items[0]);
            out += ",)";
          } else {
            repr_seq(out, l.items, "(", ")");
          }
          return;
        case ListKind::kKeys: repr_seq(out, l.items, "dict_keys([", "])"); return;
        case ListKind::kValues: repr_seq(out, l.items, "dict_values([", "])"); return;
        case ListKind::kItems: repr_seq(out, l.items, "dict_items([", "])"); return;
        case ListKind::kGenerator:
          fail_unsupported("printing a generator object (Python prints its memory address; add |list)");
        case ListKind::kRange: fail_unsupported("printing a range object (add |list)");
      }
      return;
    }
    case Value::Kind::kDict: {
      out += '{';
      bool first = true;
      for (const auto& [k, val] : v.dict().items) {
        if (!first) out += ", ";
        first = false;
        repr_into(out, k);
        out += ": ";
        repr_into(out, val);
      }
      out += '}';
      return;
    }
    default: out += py_str(v); return;
  }
}

std::string py_repr(const Value& v) {
  std::string out;
  repr_into(out, v);
  return out;
}

std::string py_str(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return "";
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return v.b() ? "True" : "False";
    case Value::Kind::kInt: return std::to_string(v.i());
    case Value::Kind::kFloat: return py_float_repr(v.f());
    case Value::Kind::kString: return v.s();
    case Value::Kind::kList:
    case Value::Kind::kDict: return py_repr(v);
    case Value::Kind::kObject: {
      auto s = v.obj().str();
      if (!s) fail_unsupported("printing a ", v.obj().type_name(), " object (Python prints its memory address)");
      return *s;
    }
  }
  return "";
}

}  // namespace dllm::jinja
