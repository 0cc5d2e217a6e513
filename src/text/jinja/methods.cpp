#include "text/jinja/methods.h"

#include <algorithm>
#include <set>

#include "text/jinja/args.h"
#include "text/jinja/ops.h"
#include "text/jinja/string_format.h"
#include "text/jinja/py_format.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

namespace {

const std::set<std::string_view> kStrMethods = {
    "startswith", "endswith", "split", "rsplit", "strip", "lstrip", "rstrip", "replace", "upper", "lower",
    "title", "capitalize", "find", "rfind", "index", "rindex", "count", "join", "isdigit", "isalpha", "isalnum",
    "isspace", "islower", "isupper", "isdecimal", "isnumeric", "zfill", "ljust", "rjust", "center", "format",
    "splitlines", "removeprefix", "removesuffix", "partition", "rpartition", "swapcase", "casefold", "encode",
    "expandtabs", "format_map", "isascii", "isidentifier", "isprintable", "istitle", "maketrans", "translate"};
const std::set<std::string_view> kDictMethods = {"items", "keys", "values", "get", "copy", "pop", "popitem",
                                                 "setdefault", "update", "clear", "fromkeys"};
const std::set<std::string_view> kListMethods = {"index", "count", "copy", "append", "extend", "insert",
                                                 "remove", "pop", "clear", "sort", "reverse"};
const std::set<std::string_view> kTupleMethods = {"index", "count"};

// markupsafe re-wraps these str methods so that they return Markup and
// escape their string arguments.
const std::set<std::string_view> kMarkupWrapped = {"capitalize", "title", "lower", "upper", "replace", "ljust",
                                                   "rjust", "lstrip", "rstrip", "center", "strip", "zfill"};

std::string arg_str(const Value& v, const char* fn) {
  if (!v.is_string()) fail_runtime(fn, "() argument must be str, not ", py_type_name(v));
  return v.s();
}

int64_t arg_int(const Value& v, const char* fn) {
  if (!(v.is_int() || v.is_bool())) fail_runtime("'", py_type_name(v), "' object cannot be interpreted as an integer (", fn, ")");
  return v.i();
}

size_t cp_index(const std::string& s, size_t byte_pos) { return cp_count(std::string_view(s).substr(0, byte_pos)); }

bool affix_match(const std::string& s, const Value& affix, bool prefix, const char* fn) {
  auto one = [&](const Value& a) {
    std::string x = arg_str(a, fn);
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (affix.is_list() && affix.list().kind == ListKind::kTuple) {
    for (const auto& a : affix.list().items)
      if (one(a)) return true;
    return false;
  }
  if (!affix.is_string())
    fail_runtime(fn, " first arg must be str or a tuple of str, not ", py_type_name(affix));
  return one(affix);
}

std::string py_replace(const std::string& s, const std::string& old, const std::string& neu, int64_t count) {
  std::string out;
  if (count < 0) count = INT64_MAX;
  if (old.empty()) {
    // Python inserts `neu` before every character and at the end.
    std::u32string u = to_u32(s);
    int64_t n = 0;
    for (char32_t c : u) {
      if (n < count) {
        out += neu;
        ++n;
      }
      append_utf8(out, c);
    }
    if (n < count) out += neu;
    return out;
  }
  size_t pos = 0;
  int64_t n = 0;
  while (n < count) {
    size_t f = s.find(old, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += neu;
    pos = f + old.size();
    ++n;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string justify(const std::string& s, int64_t width, const std::string& fill, char how) {
  int64_t n = static_cast<int64_t>(cp_count(s));
  if (width <= n) return s;
  int64_t total = width - n;
  int64_t left = how == 'l' ? 0 : how == 'r' ? total : total / 2 + (total & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += fill;
  return out;
}

Value str_list(const std::vector<std::string>& parts, bool markup) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (const auto& p : parts) items.push_back(Value::string(p, markup));
  return Value::list(std::move(items));
}

template <class Pred>
bool all_chars(const std::string& s, Pred p) {
  if (s.empty()) return false;
  for (char32_t c : to_u32(s))
    if (!p(c)) return false;
  return true;
}

Value str_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& ca) {
  (void)in;
  const std::string& s = self.s();
  const bool mk = self.markup() && kMarkupWrapped.count(name);
  if (mk) {
    // Arguments of wrapped methods are escaped (markupsafe's _escape_argspec).
    for (auto& v : ca.pos)
      if (v.is_string() && !v.markup()) v = Value::string(html_escape(v.s()), true);
    for (auto& kv : ca.kw)
      if (kv.second.is_string() && !kv.second.markup()) kv.second = Value::string(html_escape(kv.second.s()), true);
  }
  auto ret = [&](std::string r) { return Value::string(std::move(r), mk); };

  if (name == "startswith" || name == "endswith") {
    Args a(name, ca, {"prefix", "start", "end"}, 1);
    if (a.has(1) || a.has(2)) fail_unsupported("str.", name, "() with start/end");
    return Value::boolean(affix_match(s, a.get(0), name == "startswith", name.c_str()));
  }
  if (name == "split" || name == "rsplit") {
    Args a(name, ca, {"sep", "maxsplit"});
    Value sep = a.get_or(0, Value::none());
    int64_t maxsplit = a.has(1) ? arg_int(a.get(1), "split") : -1;
    std::string sep_s;
    if (!sep.is_none()) sep_s = arg_str(sep, name.c_str());
    return str_list(py_split(s, sep.is_none() ? nullptr : &sep_s, maxsplit, name == "rsplit"), self.markup());
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    Args a(name, ca, {"chars"});
    Value chars = a.get_or(0, Value::none());
    std::string cs;
    if (!chars.is_none()) cs = arg_str(chars, name.c_str());
    StripSide side = name == "strip" ? StripSide::kBoth : name == "lstrip" ? StripSide::kLeft : StripSide::kRight;
    return ret(py_strip(s, chars.is_none() ? nullptr : &cs, side));
  }
  if (name == "replace") {
    Args a(name, ca, {"old", "new", "count"}, 2);
    int64_t count = a.has(2) ? arg_int(a.get(2), "replace") : -1;
    return ret(py_replace(s, arg_str(a.get(0), "replace"), arg_str(a.get(1), "replace"), count));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    Args a(name, ca, {});
    if (name == "upper") return ret(py_upper(s));
    if (name == "lower") return ret(py_lower(s));
    if (name == "title") return ret(py_title(s));
    return ret(py_capitalize(s));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    Args a(name, ca, {"sub", "start", "end"}, 1);
    if (a.has(1) || a.has(2)) fail_unsupported("str.", name, "() with start/end");
    std::string sub = arg_str(a.get(0), name.c_str());
    if (name == "count") {
      if (sub.empty()) return Value::integer(static_cast<int64_t>(cp_count(s)) + 1);
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    }
    size_t p = (name[0] == 'r') ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex") fail_runtime("substring not found");
      return Value::integer(-1);
    }
    return Value::integer(static_cast<int64_t>(cp_index(s, p)));
  }
  if (name == "join") {
    if (self.markup()) fail_unsupported("join() on a Markup string");
    Args a(name, ca, {"iterable"}, 1);
    std::string out;
    size_t i = 0;
    for (const Value& v : iterate(a.get(0))) {
      if (!v.is_string()) fail_runtime("sequence item ", i, ": expected str instance, ", py_type_name(v), " found");
      if (i++) out += s;
      out += v.s();
    }
    return Value::string(std::move(out));
  }
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") {
    Args a(name, ca, {});
    return Value::boolean(all_chars(s, name == "isdigit" ? py_isdigit : name == "isdecimal" ? py_isdecimal : py_isnumeric));
  }
  if (name == "isalpha") return Value::boolean(all_chars(s, py_isalpha));
  if (name == "isalnum") return Value::boolean(all_chars(s, py_isalnum));
  if (name == "isspace") return Value::boolean(all_chars(s, py_isspace));
  if (name == "isascii") return Value::boolean(std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; }));
  if (name == "islower" || name == "isupper") {
    Args a(name, ca, {});
    bool any_cased = false, ok = true;
    for (char32_t c : to_u32(s)) {
      if (py_iscased(c)) {
        any_cased = true;
        if (name == "islower" ? py_isupper_cp(c) : py_islower_cp(c)) ok = false;
      }
    }
    return Value::boolean(any_cased && ok);
  }
  if (name == "zfill") {
    Args a(name, ca, {"width"}, 1);
    int64_t w = arg_int(a.get(0), "zfill");
    int64_t n = static_cast<int64_t>(cp_count(s));
    if (w <= n) return ret(s);
    size_t sign = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    return ret(s.substr(0, sign) + std::string(static_cast<size_t>(w - n), '0') + s.substr(sign));
  }
  if (name == "ljust" || name == "rjust" || name == "center") {
    Args a(name, ca, {"width", "fillchar"}, 1);
    std::string fill = a.has(1) ? arg_str(a.get(1), name.c_str()) : " ";
    if (cp_count(fill) != 1) fail_runtime("The fill character must be exactly one character long");
    char how = name == "ljust" ? 'l' : name == "rjust" ? 'r' : 'c';
    return ret(justify(s, arg_int(a.get(0), name.c_str()), fill, how));
  }
  if (name == "format") {
    if (self.markup()) fail_unsupported("format() on a Markup string");
    return Value::string(str_format(s, ca));
  }
  if (name == "splitlines") {
    Args a(name, ca, {"keepends"});
    return str_list(py_splitlines(s, truthy(a.get_or(0, Value::boolean(false)))), self.markup());
  }
  if (name == "removeprefix" || name == "removesuffix") {
    Args a(name, ca, {"affix"}, 1);
    std::string x = arg_str(a.get(0), name.c_str());
    if (name == "removeprefix") return Value::string(s.compare(0, x.size(), x) == 0 ? s.substr(x.size()) : s, self.markup());
    if (x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0)
      return Value::string(s.substr(0, s.size() - x.size()), self.markup());
    return self;
  }
  if (name == "partition" || name == "rpartition") {
    Args a(name, ca, {"sep"}, 1);
    std::string sep = arg_str(a.get(0), name.c_str());
    if (sep.empty()) fail_runtime("empty separator");
    size_t p = name == "partition" ? s.find(sep) : s.rfind(sep);
    std::vector<Value> parts;
    if (p == std::string::npos) {
      if (name == "partition") parts = {Value::string(s), Value::string(""), Value::string("")};
      else parts = {Value::string(""), Value::string(""), Value::string(s)};
    } else {
      parts = {Value::string(s.substr(0, p)), Value::string(sep), Value::string(s.substr(p + sep.size()))};
    }
    return Value::list(std::move(parts), ListKind::kTuple);
  }
  fail_unsupported("str.", name, "()");
}

Value dict_method(const Value& self, const std::string& name, CallArgs& ca) {
  const DictData& d = self.dict();
  if (name == "items" || name == "keys" || name == "values") {
    Args a(name, ca, {});
    std::vector<Value> out;
    out.reserve(d.items.size());
    for (const auto& [k, v] : d.items) {
      if (name == "items") out.push_back(Value::list({k, v}, ListKind::kTuple));
      else out.push_back(name == "keys" ? k : v);
    }
    return Value::list(std::move(out), name == "items" ? ListKind::kItems : name == "keys" ? ListKind::kKeys : ListKind::kValues);
  }
  if (name == "get") {
    Args a(name, ca, {"key", "default"}, 1);
    const Value* v = d.find(a.get(0));
    return v ? *v : a.get_or(1, Value::none());
  }
  if (name == "copy") {
    Args a(name, ca, {});
    return Value::dict(d);
  }
  // Hugging Face renders in an ImmutableSandboxedEnvironment.
  fail_runtime("access to attribute '", name, "' of 'dict' object is unsafe.");
}

Value list_method(const Value& self, const std::string& name, CallArgs& ca) {
  const ListData& l = self.list();
  if (name == "index" || name == "count") {
    Args a(name, ca, {"value"}, 1);
    int64_t n = 0;
    for (size_t i = 0; i < l.items.size(); ++i) {
      if (py_eq(l.items[i], a.get(0))) {
        if (name == "index") return Value::integer(static_cast<int64_t>(i));
        ++n;
      }
    }
    if (name == "index") fail_runtime(py_repr(a.get(0)), " is not in list");
    return Value::integer(n);
  }
  if (name == "copy") {
    Args a(name, ca, {});
    return Value::list(l.items);
  }
  fail_runtime("access to attribute '", name, "' of '", py_type_name(self), "' object is unsafe.");
}

}  // namespace

std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    if (sep->empty()) fail_runtime("empty separator");
    if (!from_right) {
      size_t pos = 0;
      int64_t n = 0;
      while (n < maxsplit) {
        size_t f = s.find(*sep, pos);
        if (f == std::string::npos) break;
        out.push_back(s.substr(pos, f - pos));
        pos = f + sep->size();
        ++n;
      }
      out.push_back(s.substr(pos));
    } else {
      size_t end = s.size();
      int64_t n = 0;
      while (n < maxsplit && end >= sep->size()) {
        size_t f = s.rfind(*sep, end - sep->size());
        if (f == std::string::npos) break;
        out.push_back(s.substr(f + sep->size(), end - f - sep->size()));
        end = f;
        ++n;
      }
      out.push_back(s.substr(0, end));
      std::reverse(out.begin(), out.end());
    }
    return out;
  }
  // Whitespace split: runs of whitespace separate, ends ignored.
  std::u32string u = to_u32(s);
  if (!from_right) {
    size_t i = 0, n = u.size();
    int64_t splits = 0;
    while (true) {
      while (i < n && py_isspace(u[i])) ++i;
      if (i == n) break;
      if (splits == maxsplit) {
        size_t e = n;
        out.push_back(to_utf8(std::u32string_view(u).substr(i, e - i)));
        break;
      }
      size_t j = i;
      while (j < n && !py_isspace(u[j])) ++j;
      out.push_back(to_utf8(std::u32string_view(u).substr(i, j - i)));
      ++splits;
      i = j;
    }
  } else {
    size_t e = u.size();
    int64_t splits = 0;
    while (true) {
      while (e > 0 && py_isspace(u[e - 1])) --e;
      if (e == 0) break;
      if (splits == maxsplit) {
        out.push_back(to_utf8(std::u32string_view(u).substr(0, e)));
        break;
      }
      size_t b = e;
      while (b > 0 && !py_isspace(u[b - 1])) --b;
      out.push_back(to_utf8(std::u32string_view(u).substr(b, e - b)));
      ++splits;
      e = b;
    }
    std::reverse(out.begin(), out.end());
  }
  return out;
}

std::vector<std::string> py_splitlines(const std::string& s, bool keepends) {
  std::vector<std::string> out;
  std::u32string u = to_u32(s);
  size_t start = 0, i = 0;
  while (i < u.size()) {
    char32_t c = u[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) {
      ++i;
      continue;
    }
    size_t eol = i + 1;
    if (c == '\r' && eol < u.size() && u[eol] == '\n') ++eol;
    out.push_back(to_utf8(std::u32string_view(u).substr(start, (keepends ? eol : i) - start)));
    start = i = eol;
  }
  if (start < u.size()) out.push_back(to_utf8(std::u32string_view(u).substr(start)));
  return out;
}

bool has_method(const Value& self, std::string_view name) {
  switch (self.kind()) {
    case Value::Kind::kString: return kStrMethods.count(name) > 0;
    case Value::Kind::kDict: return kDictMethods.count(name) > 0;
    case Value::Kind::kList:
      if (self.list().kind == ListKind::kList) return kListMethods.count(name) > 0;
      if (self.list().kind == ListKind::kTuple) return kTupleMethods.count(name) > 0;
      return false;
    default: return false;
  }
}

Value call_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& args) {
  switch (self.kind()) {
    case Value::Kind::kString: return str_method(in, self, name, args);
    case Value::Kind::kDict: return dict_method(self, name, args);
    case Value::Kind::kList: return list_method(self, name, args);
    default: fail_runtime("'", py_type_name(self), "' object has no method '", name, "'");
  }
}

}  // namespace dllm::jinja
