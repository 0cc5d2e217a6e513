#include "text/jinja/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "text/jinja/args.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/json_value.h"
#include "text/jinja/methods.h"
#include "text/jinja/ops.h"
#include "text/jinja/string_format.h"
#include "text/jinja/py_format.h"
#include "text/jinja/tests.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);

// Jinja2's soft_str: strings (Markup included) stay as they are, anything
// else becomes str(x).
Value soft_str(const Value& v) { return v.is_string() ? v : Value::string(py_str(v)); }

Value generator(std::vector<Value> items) { return Value::list(std::move(items), ListKind::kGenerator); }

// make_attrgetter: "a.b.0" -> getitem(getitem(getitem(x, 'a'), 'b'), 0).
Value get_path(Interpreter& in, const Value& item, const Value& attribute, const Value& default_value, bool lower) {
  Value v = item;
  if (attribute.is_int()) {
    v = in.get_item(v, attribute);
  } else {
    std::string path = py_str(attribute);
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
      v = in.get_item(v, digits ? Value::integer(std::stoll(part)) : Value::string(part));
      if (v.is_undefined() && !default_value.is_undefined()) {
        v = default_value;
        break;
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  if (lower && v.is_string()) v = Value::string(py_lower(v.s()));
  return v;
}

Value f_abs(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("abs", ca, {});
  if (v.is_float()) return Value::number(std::fabs(v.f()));
  if (v.is_int() || v.is_bool()) return v.i() < 0 ? negate(v) : Value::integer(v.i());
  fail_runtime("bad operand type for abs(): '", py_type_name(v), "'");
}

Value f_attr(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("attr", ca, {"name"}, 1);
  if (v.is_undefined()) fail_undefined(v);
  std::string name = py_str(a.get(0));
  // Attribute lookup only (no item fallback), as Jinja2's do_attr.
  if (v.is_object()) return v.obj().get_attr(name);
  if (has_method(v, name)) return in.get_attr(v, name);
  return Value::undefined(str_cat("'", py_type_name(v), " object' has no attribute '", name, "'"));
}

Value f_batch(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("batch", ca, {"linecount", "fill_with"}, 1);
  if (!(a.get(0).is_int())) fail_runtime("batch() linecount must be an integer");
  int64_t n = a.get(0).i();
  if (n <= 0) fail_runtime("batch() linecount must be positive");
  std::vector<Value> out, cur;
  for (const Value& x : iterate(v)) {
    cur.push_back(x);
    if (static_cast<int64_t>(cur.size()) == n) {
      out.push_back(Value::list(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (a.has(1) && !a.get(1).is_none())
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(a.get(1));
    out.push_back(Value::list(std::move(cur)));
  }
  return generator(std::move(out));
}

Value f_capitalize(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("capitalize", ca, {});
  Value s = soft_str(v);
  return Value::string(py_capitalize(s.s()), s.markup());
}

Value f_center(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("center", ca, {"width"});
  CallArgs inner;
  inner.pos.push_back(a.get_or(0, Value::integer(80)));
  return call_method(in, soft_str(v), "center", inner);
}

Value f_default(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("default", ca, {"default_value", "boolean"});
  Value def = a.get_or(0, Value::string(""));
  bool boolean = truthy(a.get_or(1, Value::boolean(false)));
  if (v.is_undefined() || (boolean && !truthy(v))) return def;
  return v;
}

Value f_dictsort(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("dictsort", ca, {"case_sensitive", "by", "reverse"});
  bool cs = truthy(a.get_or(0, Value::boolean(false)));
  std::string by = py_str(a.get_or(1, Value::string("key")));
  bool rev = truthy(a.get_or(2, Value::boolean(false)));
  if (!v.is_dict()) fail_runtime("'", py_type_name(v), "' object has no attribute 'items'");
  int pos;
  if (by == "key") pos = 0;
  else if (by == "value") pos = 1;
  else fail_runtime("You can only sort by either \"key\" or \"value\"");
  std::vector<Value> items;
  for (const auto& [k, val] : v.dict().items) items.push_back(Value::list({k, val}, ListKind::kTuple));
  auto key = [&](const Value& t) {
    Value x = t.list().items[static_cast<size_t>(pos)];
    if (!cs && x.is_string()) x = Value::string(py_lower(x.s()));
    return x;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    return rev ? py_less(key(y), key(x)) : py_less(key(x), key(y));
  });
  return Value::list(std::move(items));
}

Value f_escape(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("escape", ca, {});
  if (v.is_string() && v.markup()) return v;
  return Value::string(html_escape(py_str(v)), true);
}

Value f_forceescape(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("forceescape", ca, {});
  return Value::string(html_escape(py_str(v)), true);
}

Value f_first(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("first", ca, {});
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items[0];
}

Value f_last(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("last", ca, {});
  if (v.is_list() && v.list().kind == ListKind::kGenerator) fail_runtime("'generator' object is not reversible");
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

// Python float(x) for a str: strips whitespace, allows underscores between
// digits, inf/nan words.
bool parse_py_float(const std::string& text, double& out) {
  std::string t = py_strip(text, nullptr, StripSide::kBoth);
  std::string clean;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_') {
      if (i == 0 || i + 1 >= t.size() || !isdigit(static_cast<unsigned char>(t[i - 1])) ||
          !isdigit(static_cast<unsigned char>(t[i + 1])))
        return false;
      continue;
    }
    clean += t[i];
  }
  if (clean.empty()) return false;
  std::string low = py_lower(clean);
  size_t sign = (low[0] == '+' || low[0] == '-') ? 1 : 0;
  std::string word = low.substr(sign);
  if (word == "inf" || word == "infinity" || word == "nan") {
    out = word == "nan" ? NAN : INFINITY;
    if (low[0] == '-') out = -out;
    return true;
  }
  for (char c : word)
    if (!(isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-')) return false;
  char* end = nullptr;
  out = std::strtod(clean.c_str(), &end);
  return end && *end == '\0';
}

bool parse_py_int(const std::string& text, int64_t base, int64_t& out) {
  std::string t = py_strip(text, nullptr, StripSide::kBoth);
  if (t.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (t[0] == '+' || t[0] == '-') {
    neg = t[0] == '-';
    i = 1;
  }
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (i + 1 < t.size() && t[i] == '0') {
      char p = static_cast<char>(t[i + 1] | 0x20);
      int64_t b = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (b && (base == 0 || base == b)) {
        base = b;
        i += 2;
        if (i < t.size() && t[i] == '_') ++i;
      }
    }
    if (base == 0) base = 10;
  }
  if (base < 2 || base > 36) fail_runtime("int() base must be >= 2 and <= 36, or 0");
  if (i >= t.size()) return false;
  unsigned __int128 v = 0;
  bool prev_digit = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_') {
      if (!prev_digit || i + 1 >= t.size()) return false;
      prev_digit = false;
      continue;
    }
    int d = isdigit(static_cast<unsigned char>(c)) ? c - '0' : isalpha(static_cast<unsigned char>(c)) ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return false;
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (v > static_cast<unsigned __int128>(INT64_MAX)) fail_unsupported("integer beyond 64 bits");
    prev_digit = true;
  }
  if (!prev_digit) return false;
  out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

Value float_to_int(double d) {
  if (std::isnan(d)) return Value();
  if (std::isinf(d)) fail_runtime("cannot convert float infinity to integer");
  double t = std::trunc(d);
  if (t >= 9.2233720368547758e18 || t < -9.2233720368547758e18) fail_unsupported("integer beyond 64 bits");
  return Value::integer(static_cast<int64_t>(t));
}

Value f_int(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("int", ca, {"default", "base"});
  Value def = a.get_or(0, Value::integer(0));
  int64_t base = a.has(1) ? a.get(1).i() : 10;
  if (v.is_undefined()) fail_undefined(v);  // int(Undefined) raises UndefinedError
  if (v.is_int() || v.is_bool()) return Value::integer(v.i());
  if (v.is_float()) {
    Value r = float_to_int(v.f());
    return r.is_undefined() ? def : r;
  }
  if (v.is_string()) {
    int64_t out;
    if (parse_py_int(v.s(), base, out)) return Value::integer(out);
    double d;
    if (parse_py_float(v.s(), d)) {
      Value r = float_to_int(d);
      return r.is_undefined() ? def : r;
    }
  }
  return def;
}

Value f_float(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("float", ca, {"default"});
  Value def = a.get_or(0, Value::number(0.0));
  if (v.is_undefined()) fail_undefined(v);  // float(Undefined) raises UndefinedError
  if (v.is_number()) return Value::number(v.f());
  double d;
  if (v.is_string() && parse_py_float(v.s(), d)) return Value::number(d);
  return def;
}

Value f_format(Interpreter&, const Value& v, CallArgs& ca) {
  Value s = soft_str(v);
  if (s.markup()) fail_unsupported("format filter on a Markup string");
  if (!ca.kw.empty() && !ca.pos.empty()) fail_runtime("can't handle positional and keyword arguments at the same time");
  if (!ca.kw.empty()) {
    DictData d;
    for (const auto& [k, x] : ca.kw) d.set(Value::string(k), x);
    return Value::string(percent_format(s.s(), Value::dict(std::move(d))));
  }
  return Value::string(percent_format(s.s(), Value::list(ca.pos, ListKind::kTuple)));
}

Value f_indent(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("indent", ca, {"width", "first", "blank"});
  Value width = a.get_or(0, Value::integer(4));
  bool first = truthy(a.get_or(1, Value::boolean(false)));
  bool blank = truthy(a.get_or(2, Value::boolean(false)));
  std::string ind;
  if (width.is_string()) ind = width.s();
  else if (width.is_int() || width.is_bool()) ind = std::string(static_cast<size_t>(std::max<int64_t>(0, width.i())), ' ');
  else fail_runtime("can't multiply sequence by non-int of type '", py_type_name(width), "'");
  // Jinja2 appends "\n" to the value itself: only strings work.
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_string()) fail_runtime("unsupported operand type(s) for +=: '", py_type_name(v), "' and 'str'");
  const Value& sv = v;
  std::vector<std::string> lines = py_splitlines(sv.s() + "\n", false);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + ind;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    if (lines.size() > 1) {
      rv += "\n";
      for (size_t i = 1; i < lines.size(); ++i) {
        if (i > 1) rv += "\n";
        if (!lines[i].empty()) rv += ind;
        rv += lines[i];
      }
    }
  }
  if (first) rv = ind + rv;
  return Value::string(std::move(rv), sv.markup());
}

Value f_items(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("items", ca, {});
  if (v.is_undefined()) return generator({});
  if (!v.is_dict()) fail_runtime("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, val] : v.dict().items) out.push_back(Value::list({k, val}, ListKind::kTuple));
  return generator(std::move(out));
}

Value f_join(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("join", ca, {"d", "attribute"});
  std::string d = py_str(a.get_or(0, Value::string("")));
  std::string out;
  bool first = true;
  for (const Value& x : iterate(v)) {
    if (!first) out += d;
    first = false;
    out += py_str(a.has(1) && !a.get(1).is_none() ? get_path(in, x, a.get(1), Value(), false) : x);
  }
  return Value::string(std::move(out));
}

Value f_length(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("length", ca, {});
  return Value::integer(py_len(v));
}

Value f_list(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("list", ca, {});
  return Value::list(iterate(v));
}

Value f_lower(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("lower", ca, {});
  Value s = soft_str(v);
  return Value::string(py_lower(s.s()), s.markup());
}

Value f_upper(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("upper", ca, {});
  Value s = soft_str(v);
  return Value::string(py_upper(s.s()), s.markup());
}

Value f_map(Interpreter& in, const Value& v, CallArgs& ca) {
  if (!truthy(v)) return generator({});  // Jinja2: `if value:` before iterating
  std::vector<Value> items = iterate(v);
  std::vector<Value> out;
  if (ca.pos.empty()) {
    Args a("map", ca, {"attribute", "default"});
    if (!a.has(0)) fail_runtime("map requires a filter argument");
    for (const Value& x : items) out.push_back(get_path(in, x, a.get(0), a.get(1), false));
    return generator(std::move(out));
  }
  if (!ca.pos[0].is_string()) fail_runtime("map filter name must be a string");
  std::string name = ca.pos[0].s();
  if (!is_filter_name(name)) fail_unsupported("filter '", name, "' (in map)");
  CallArgs rest;
  rest.pos.assign(ca.pos.begin() + 1, ca.pos.end());
  rest.kw = ca.kw;
  for (const Value& x : items) {
    CallArgs copy = rest;
    out.push_back(in.apply_filter(name, x, copy));
  }
  return generator(std::move(out));
}

Value select_impl(Interpreter& in, const Value& v, CallArgs& ca, bool attr, bool keep) {
  std::vector<Value> out;
  if (!truthy(v)) return generator({});  // Jinja2: `if value:` before iterating
  size_t off = 0;
  Value attribute;
  if (attr) {
    if (ca.pos.empty()) fail_runtime("Missing parameter for attribute name");
    attribute = ca.pos[0];
    off = 1;
  }
  std::string test;
  CallArgs targs;
  bool has_test = ca.pos.size() > off;
  if (has_test) {
    if (!ca.pos[off].is_string()) fail_runtime("test name must be a string");
    test = ca.pos[off].s();
    if (!is_test_name(test)) fail_unsupported("test '", test, "' (in select/reject)");
    targs.pos.assign(ca.pos.begin() + static_cast<long>(off) + 1, ca.pos.end());
    targs.kw = ca.kw;
  }
  for (const Value& x : iterate(v)) {
    Value subject = attr ? get_path(in, x, attribute, Value(), false) : x;
    bool ok;
    if (has_test) {
      CallArgs copy = targs;
      ok = in.apply_test(test, subject, copy);
    } else {
      ok = truthy(subject);
    }
    if (ok == keep) out.push_back(x);
  }
  return generator(std::move(out));
}

Value f_select(Interpreter& in, const Value& v, CallArgs& ca) { return select_impl(in, v, ca, false, true); }
Value f_reject(Interpreter& in, const Value& v, CallArgs& ca) { return select_impl(in, v, ca, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& ca) { return select_impl(in, v, ca, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& ca) { return select_impl(in, v, ca, true, false); }

Value f_replace(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("replace", ca, {"old", "new", "count"}, 2);
  CallArgs inner;
  inner.pos = {Value::string(py_str(a.get(0))), Value::string(py_str(a.get(1)))};
  if (a.has(2) && !a.get(2).is_none()) inner.pos.push_back(a.get(2));
  // With autoescape off Jinja2 replaces on str(s): a plain str result.
  return call_method(in, Value::string(py_str(v)), "replace", inner);
}

Value f_reverse(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("reverse", ca, {});
  if (v.is_string()) {
    std::u32string u = to_u32(v.s());
    std::reverse(u.begin(), u.end());
    return Value::string(to_utf8(u), v.markup());
  }
  if (v.is_none() || v.is_number() || v.is_object()) fail_runtime("argument must be iterable");
  // reversed(Undefined) works (it has __len__ and __getitem__): an empty iterator.
  if (v.is_undefined()) return generator({});
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  // reversed(list) is an iterator; list(generator) reversed is a list.
  bool reversible = (v.is_list() && v.list().kind != ListKind::kGenerator) || v.is_dict();
  return reversible ? generator(std::move(items)) : Value::list(std::move(items));
}

Value f_round(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("round", ca, {"precision", "method"});
  int64_t prec = a.has(0) ? a.get(0).i() : 0;
  std::string method = py_str(a.get_or(1, Value::string("common")));
  if (!v.is_number()) fail_runtime("type ", py_type_name(v), " doesn't define __round__ method");
  if (prec < 0 || prec > 300) fail_unsupported("round() with precision ", prec);
  if (method == "common") {
    if (!v.is_float()) return Value::integer(v.i());
    if (!std::isfinite(v.f())) return v;
    // printf rounds the exact binary value half-to-even, as Python's round().
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(prec), v.f());
    return Value::number(std::strtod(buf, nullptr));
  }
  if (method != "floor" && method != "ceil") fail_runtime("method must be common, ceil or floor");
  double scale = std::pow(10.0, static_cast<double>(prec));
  double x = v.f() * scale;
  return Value::number((method == "floor" ? std::floor(x) : std::ceil(x)) / scale);
}

Value f_safe(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("safe", ca, {});
  return Value::string(py_str(v), true);
}

Value sort_key(const Value& x, Interpreter& in, const Value& attribute, bool cs) {
  Value k = attribute.is_none() || attribute.is_undefined() ? x : get_path(in, x, attribute, Value(), false);
  if (!cs && k.is_string()) k = Value::string(py_lower(k.s()));
  return k;
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("sort", ca, {"reverse", "case_sensitive", "attribute"});
  bool rev = truthy(a.get_or(0, Value::boolean(false)));
  bool cs = truthy(a.get_or(1, Value::boolean(false)));
  Value attribute = a.get_or(2, Value::none());
  if (attribute.is_string() && attribute.s().find(',') != std::string::npos)
    fail_unsupported("sort by several attributes");
  std::vector<Value> items = iterate(v);
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& x : items) keyed.emplace_back(sort_key(x, in, attribute, cs), x);
  // Jinja2's sort keys are one-element lists, so keys compare as lists do:
  // equal items (two undefined values included) never reach `<`.
  auto less = [](const Value& x, const Value& y) { return !py_eq(x, y) && py_less(x, y); };
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& p, const auto& q) {
    return rev ? less(q.first, p.first) : less(p.first, q.first);
  });
  std::vector<Value> out;
  for (auto& p : keyed) out.push_back(p.second);
  return Value::list(std::move(out));
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("unique", ca, {"case_sensitive", "attribute"});
  bool cs = truthy(a.get_or(0, Value::boolean(false)));
  Value attribute = a.get_or(1, Value::none());
  std::vector<Value> seen, out;
  for (const Value& x : iterate(v)) {
    Value k = sort_key(x, in, attribute, cs);
    if ((k.is_list() && k.list().kind != ListKind::kTuple) || k.is_dict()) fail_runtime("unhashable type: '", py_type_name(k), "'");
    bool dup = false;
    for (const auto& s : seen)
      if (py_eq(s, k)) dup = true;
    if (!dup) {
      seen.push_back(k);
      out.push_back(x);
    }
  }
  return generator(std::move(out));
}

Value min_max(Interpreter& in, const Value& v, CallArgs& ca, bool want_max) {
  Args a(want_max ? "max" : "min", ca, {"case_sensitive", "attribute"});
  bool cs = truthy(a.get_or(0, Value::boolean(false)));
  Value attribute = a.get_or(1, Value::none());
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = sort_key(items[0], in, attribute, cs);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = sort_key(items[i], in, attribute, cs);
    if (want_max ? py_less(best_key, k) : py_less(k, best_key)) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

Value f_max(Interpreter& in, const Value& v, CallArgs& ca) { return min_max(in, v, ca, true); }
Value f_min(Interpreter& in, const Value& v, CallArgs& ca) { return min_max(in, v, ca, false); }

Value f_string(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("string", ca, {});
  return soft_str(v);
}

Value f_sum(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("sum", ca, {"attribute", "start"});
  Value acc = a.get_or(1, Value::integer(0));
  for (const Value& x : iterate(v)) {
    Value item = a.has(0) && !a.get(0).is_none() ? get_path(in, x, a.get(0), Value(), false) : x;
    if (acc.is_string()) fail_runtime("sum() can't sum strings [use ''.join(seq) instead]");
    acc = binary_op(BinOp::kAdd, acc, item);
  }
  return acc;
}

Value f_title(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("title", ca, {});
  // Jinja2: split before runs of [-\s({[<], upper-case the first character
  // of each piece and lower-case the rest.
  Value sv = soft_str(v);
  std::u32string u = to_u32(sv.s());
  auto is_sep = [](char32_t c) { return py_isspace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; };
  std::string out;
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    if (is_sep(u[i])) {
      while (j < u.size() && is_sep(u[j])) ++j;
      out += to_utf8(std::u32string_view(u).substr(i, j - i));
    } else {
      while (j < u.size() && !is_sep(u[j])) ++j;
      std::string piece = to_utf8(std::u32string_view(u).substr(i, j - i));
      std::string head = to_utf8(std::u32string_view(u).substr(i, 1));
      std::string tail = to_utf8(std::u32string_view(u).substr(i + 1, j - i - 1));
      out += py_upper(head) + py_lower(tail);
    }
    i = j;
  }
  return Value::string(std::move(out), sv.markup());
}

Value f_tojson(Interpreter&, const Value& v, CallArgs& ca) {
  // Hugging Face: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  Args a("tojson", ca, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions o;
  o.ensure_ascii = truthy(a.get_or(0, Value::boolean(false)));
  Value indent = a.get_or(1, Value::none());
  if (indent.is_string()) o.indent = indent.s();
  else if (indent.is_int() || indent.is_bool()) o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, indent.i())), ' ');
  else if (!indent.is_none()) fail_runtime("can't multiply sequence by non-int of type '", py_type_name(indent), "'");
  Value seps = a.get_or(2, Value::none());
  if (!seps.is_none()) {
    if (!seps.is_list() || seps.list().items.size() != 2 || !seps.list().items[0].is_string() ||
        !seps.list().items[1].is_string())
      fail_runtime("tojson separators must be a pair of strings");
    o.item_sep = seps.list().items[0].s();
    o.key_sep = seps.list().items[1].s();
  }
  o.sort_keys = truthy(a.get_or(3, Value::boolean(false)));
  return Value::string(json_dumps(v, o));
}

Value f_trim(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("trim", ca, {"chars"});
  Value s = soft_str(v);
  Value chars = a.get_or(0, Value::none());
  std::string cs;
  if (!chars.is_none()) cs = py_str(chars);
  return Value::string(py_strip(s.s(), chars.is_none() ? nullptr : &cs, StripSide::kBoth), s.markup());
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("wordcount", ca, {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : to_u32(py_str(v))) {
    bool w = py_isalnum(c) || c == '_';
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

const std::map<std::string_view, FilterFn>& registry() {
  static const std::map<std::string_view, FilterFn> r = {
      {"abs", f_abs},         {"attr", f_attr},           {"batch", f_batch},       {"capitalize", f_capitalize},
      {"center", f_center},   {"count", f_length},        {"d", f_default},         {"default", f_default},
      {"dictsort", f_dictsort}, {"e", f_escape},          {"escape", f_escape},     {"first", f_first},
      {"float", f_float},     {"forceescape", f_forceescape}, {"format", f_format}, {"indent", f_indent},
      {"int", f_int},         {"items", f_items},         {"join", f_join},         {"last", f_last},
      {"length", f_length},   {"list", f_list},           {"lower", f_lower},       {"map", f_map},
      {"max", f_max},         {"min", f_min},             {"reject", f_reject},     {"rejectattr", f_rejectattr},
      {"replace", f_replace}, {"reverse", f_reverse},     {"round", f_round},       {"safe", f_safe},
      {"select", f_select},   {"selectattr", f_selectattr}, {"sort", f_sort},       {"string", f_string},
      {"sum", f_sum},         {"title", f_title},         {"tojson", f_tojson},     {"trim", f_trim},
      {"unique", f_unique},   {"upper", f_upper},         {"wordcount", f_wordcount},
  };
  return r;
}

}  // namespace

bool is_filter_name(std::string_view name) { return registry().count(name) > 0; }

Value call_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args) {
  auto it = registry().find(name);
  if (it == registry().end()) fail_unsupported("filter '", name, "'");
  return it->second(in, input, args);
}

}  // namespace dllm::jinja
