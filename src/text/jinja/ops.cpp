#include "text/jinja/ops.h"

#include <cmath>
#include <cstdio>

#include "text/jinja/py_format.h"
#include "text/jinja/string_format.h"
#include "text/jinja/template_error.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

int64_t checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail_unsupported("integer arithmetic beyond 64 bits");
  return r;
}
int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail_unsupported("integer arithmetic beyond 64 bits");
  return r;
}
static int64_t checked_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) fail_unsupported("integer arithmetic beyond 64 bits");
  return r;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out += c;
    }
  }
  return out;
}

// markupsafe.escape(x) as text: a Markup string stays, anything else is
// converted with str() and escaped.
static std::string escape_value(const Value& v) {
  if (v.is_string() && v.markup()) return v.s();
  return html_escape(py_str(v));
}

[[noreturn]] static void fail_operand(const char* op, const Value& a, const Value& b) {
  fail_runtime("unsupported operand type(s) for ", op, ": '", py_type_name(a), "' and '", py_type_name(b), "'");
}

static bool plain_seq(const Value& v) {
  return v.is_list() && (v.list().kind == ListKind::kList || v.list().kind == ListKind::kTuple);
}

static Value repeat(const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    if (n > 0 && seq.s().size() > (size_t{1} << 30) / static_cast<size_t>(n)) fail_runtime("repeated string too large");
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.s();
    return Value::string(std::move(out), seq.markup());
  }
  std::vector<Value> out;
  if (n > 0 && seq.list().items.size() > (size_t{1} << 24) / static_cast<size_t>(n)) fail_runtime("repeated list too large");
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.list().items.begin(), seq.list().items.end());
  return Value::list(std::move(out), seq.list().kind);
}

static double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  if (m == 0) m = std::copysign(0.0, b);
  return m;
}

// CPython's float_floor_div.
static double float_floordiv(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) div -= 1.0;
  }
  if (div != 0) {
    double fl = std::floor(div);
    if (div - fl > 0.5) fl += 1.0;
    return fl;
  }
  return std::copysign(0.0, vx / wx);
}

static int64_t floordiv_int(int64_t a, int64_t b) {
  if (a == INT64_MIN && b == -1) fail_unsupported("integer arithmetic beyond 64 bits");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

static Value ipow(int64_t base, int64_t exp) {
  int64_t r = 1;
  for (int64_t i = 0; i < exp; ++i) {
    r = checked_mul(r, base);
    if (r == 0 || r == 1) break;  // 0**n, 1**n
    if (base == -1) {
      r = (exp % 2) ? -1 : 1;
      break;
    }
  }
  return Value::integer(r);
}

Value binary_op(BinOp op, const Value& a, const Value& b) {
  if (op == BinOp::kConcat) {
    // Jinja2's `~` joins str() of both sides into a plain str.
    return Value::string(py_str(a) + py_str(b));
  }
  if (a.is_undefined()) fail_undefined(a);
  // str % x is str.__mod__ first, whatever x is (even undefined).
  if (op == BinOp::kMod && a.is_string()) {
    if (a.markup()) fail_unsupported("% formatting of a Markup string");
    return Value::string(percent_format(a.s(), b));
  }
  if (b.is_undefined()) fail_undefined(b);
  const bool num = a.is_number() && b.is_number();
  const bool flt = num && (a.is_float() || b.is_float());
  switch (op) {
    case BinOp::kAdd:
      if (num) return flt ? Value::number(a.f() + b.f()) : Value::integer(checked_add(a.i(), b.i()));
      if (a.is_string() && b.is_string()) {
        if (a.markup() || b.markup()) return Value::string(escape_value(a) + escape_value(b), true);
        return Value::string(a.s() + b.s());
      }
      if (plain_seq(a) && plain_seq(b) && a.list().kind == b.list().kind) {
        std::vector<Value> out = a.list().items;
        out.insert(out.end(), b.list().items.begin(), b.list().items.end());
        return Value::list(std::move(out), a.list().kind);
      }
      fail_operand("+", a, b);
    case BinOp::kSub:
      if (num) return flt ? Value::number(a.f() - b.f()) : Value::integer(checked_sub(a.i(), b.i()));
      fail_operand("-", a, b);
    case BinOp::kMul:
      if (num) return flt ? Value::number(a.f() * b.f()) : Value::integer(checked_mul(a.i(), b.i()));
      if ((a.is_string() || plain_seq(a)) && (b.is_int() || b.is_bool())) return repeat(a, b.i());
      if ((b.is_string() || plain_seq(b)) && (a.is_int() || a.is_bool())) return repeat(b, a.i());
      fail_operand("*", a, b);
    case BinOp::kDiv:
      if (num) {
        if (b.f() == 0) fail_runtime("division by zero");
        return Value::number(a.f() / b.f());
      }
      fail_operand("/", a, b);
    case BinOp::kFloorDiv:
      if (num) {
        if (flt) {
          if (b.f() == 0) fail_runtime("float floor division by zero");
          return Value::number(float_floordiv(a.f(), b.f()));
        }
        if (b.i() == 0) fail_runtime("integer division or modulo by zero");
        return Value::integer(floordiv_int(a.i(), b.i()));
      }
      fail_operand("//", a, b);
    case BinOp::kMod:
      if (num) {
        if (flt) {
          if (b.f() == 0) fail_runtime("float modulo");
          return Value::number(py_fmod(a.f(), b.f()));
        }
        if (b.i() == 0) fail_runtime("integer division or modulo by zero");
        if (a.i() == INT64_MIN && b.i() == -1) return Value::integer(0);
        int64_t m = a.i() % b.i();
        if (m != 0 && ((m < 0) != (b.i() < 0))) m += b.i();
        return Value::integer(m);
      }
      fail_operand("%", a, b);
    case BinOp::kPow:
      if (num) {
        if (!flt && b.i() >= 0) return ipow(a.i(), b.i());
        if (a.f() == 0 && b.f() < 0) fail_runtime("0.0 cannot be raised to a negative power");
        double r = std::pow(a.f(), b.f());
        if (std::isnan(r) && !std::isnan(a.f()) && !std::isnan(b.f()))
          fail_unsupported("complex result of ** (negative base, fractional exponent)");
        return Value::number(r);
      }
      fail_operand("** or pow()", a, b);
    case BinOp::kConcat: break;
  }
  return Value();
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kUndefined: return false;  // Undefined iterates as empty
    case Value::Kind::kString:
      if (!item.is_string()) fail_runtime("'in <string>' requires string as left operand, not ", py_type_name(item));
      return container.s().find(item.s()) != std::string::npos;
    case Value::Kind::kList: {
      const ListData& l = container.list();
      if (l.kind == ListKind::kGenerator) fail_unsupported("`in` on a generator (it consumes it)");
      for (const auto& v : l.items)
        if (py_eq(v, item)) return true;
      return false;
    }
    case Value::Kind::kDict:
      if (item.is_list() && item.list().kind != ListKind::kTuple) fail_runtime("unhashable type: 'list'");
      if (item.is_dict()) fail_runtime("unhashable type: 'dict'");
      return container.dict().find(item) != nullptr;
    default:
      fail_runtime("argument of type '", py_type_name(container), "' is not iterable");
  }
}

bool compare_op(CmpOp op, const Value& a, const Value& b) {
  switch (op) {
    case CmpOp::kEq: return py_eq(a, b);
    case CmpOp::kNe: return !py_eq(a, b);
    case CmpOp::kLt: return py_less(a, b);
    case CmpOp::kGt: return py_less(b, a);
    case CmpOp::kLe: return py_less(a, b) || py_eq(a, b);
    case CmpOp::kGe: return py_less(b, a) || py_eq(a, b);
    case CmpOp::kIn: return contains(b, a);
    case CmpOp::kNotIn: return !contains(b, a);
  }
  return false;
}

Value negate(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_float()) return Value::number(-v.f());
  if (v.is_int() || v.is_bool()) return Value::integer(checked_sub(0, v.i()));
  fail_runtime("bad operand type for unary -: '", py_type_name(v), "'");
}

Value positive(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_float()) return v;
  if (v.is_int() || v.is_bool()) return Value::integer(v.i());
  fail_runtime("bad operand type for unary +: '", py_type_name(v), "'");
}

Value slice_value(const Value& seq, const Value& start_v, const Value& stop_v, const Value& step_v, bool lenient) {
  if (seq.is_undefined()) fail_undefined(seq);
  // The TypeErrors of Python's subscript; lenient: Jinja2's getitem, which
  // turns them into an undefined value.
  auto type_error = [&](auto... msg) -> Value {
    if (lenient) return Value::undefined(str_cat("'", py_type_name(seq), " object' has no element slice"));
    fail_runtime(msg...);
  };
  // Jinja2 compiles slices to a plain Python subscript (not its getitem), so
  // bad indices and unsliceable objects are errors, not undefined values.
  for (const Value* v : {&start_v, &stop_v, &step_v}) {
    if (v->is_undefined()) fail_undefined(*v);
    if (!(v->is_none() || v->is_int() || v->is_bool()))
      return type_error("slice indices must be integers or None or have an __index__ method");
  }
  bool has_start = !start_v.is_none(), has_stop = !stop_v.is_none(), has_step = !step_v.is_none();
  int64_t start = has_start ? start_v.i() : 0, stop = has_stop ? stop_v.i() : 0, step = has_step ? step_v.i() : 1;
  if (!has_step) step = 1;
  if (step == 0) fail_runtime("slice step cannot be zero");

  std::u32string chars;
  const std::vector<Value>* items = nullptr;
  int64_t len;
  if (seq.is_string()) {
    chars = to_u32(seq.s());
    len = static_cast<int64_t>(chars.size());
  } else if (seq.is_list() && (seq.list().kind == ListKind::kList || seq.list().kind == ListKind::kTuple)) {
    items = &seq.list().items;
    len = static_cast<int64_t>(items->size());
  } else if (seq.is_list() && seq.list().kind == ListKind::kRange) {
    fail_unsupported("slicing a range object");
  } else if (seq.is_dict()) {
    return type_error("unhashable type: 'slice'");
  } else {
    return type_error("'", py_type_name(seq), "' object is not subscriptable");
  }
  // PySlice_AdjustIndices.
  auto adjust = [&](int64_t& i, bool present, int64_t def) {
    if (!present) {
      i = def;
      return;
    }
    if (i < 0) {
      i += len;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= len) {
      i = step < 0 ? len - 1 : len;
    }
  };
  adjust(start, has_start, step < 0 ? len - 1 : 0);
  adjust(stop, has_stop, step < 0 ? -1 : len);
  std::vector<int64_t> idx;
  if (step > 0) {
    for (int64_t i = start; i < stop; i += step) idx.push_back(i);
  } else {
    for (int64_t i = start; i > stop; i += step) idx.push_back(i);
  }
  if (items) {
    std::vector<Value> out;
    out.reserve(idx.size());
    for (int64_t i : idx) out.push_back((*items)[static_cast<size_t>(i)]);
    return Value::list(std::move(out), seq.list().kind);
  }
  std::u32string out;
  for (int64_t i : idx) out.push_back(chars[static_cast<size_t>(i)]);
  return Value::string(to_utf8(out), seq.markup());
}

}  // namespace dllm::jinja
