#include "text/jinja/tests.h"

#include <map>

#include "text/jinja/args.h"
#include "text/jinja/filters.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/methods.h"
#include "text/jinja/ops.h"
#include "text/jinja/py_format.h"

namespace dllm::jinja {

namespace {

using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

#define SIMPLE_TEST(fname, expr)                               \
  bool fname(Interpreter&, const Value& v, CallArgs& ca) {     \
    Args a(#fname, ca, {});                                    \
    return (expr);                                             \
  }

SIMPLE_TEST(t_defined, !v.is_undefined())
SIMPLE_TEST(t_undefined, v.is_undefined())
SIMPLE_TEST(t_none, v.is_none())
SIMPLE_TEST(t_boolean, v.is_bool())
SIMPLE_TEST(t_false, v.is_bool() && !v.b())
SIMPLE_TEST(t_true, v.is_bool() && v.b())
SIMPLE_TEST(t_integer, v.is_int())
SIMPLE_TEST(t_float, v.is_float())
SIMPLE_TEST(t_number, v.is_number())
SIMPLE_TEST(t_string, v.is_string())
SIMPLE_TEST(t_mapping, v.is_dict())
SIMPLE_TEST(t_escaped, v.is_string() && v.markup())
// Undefined has a __call__ (that raises), so callable() is true for it.
SIMPLE_TEST(t_callable, v.is_undefined() || (v.is_object() && v.obj().callable()))

// iter(x) succeeds: str, all list kinds, dict, and Undefined (which iterates
// as empty).
SIMPLE_TEST(t_iterable, v.is_undefined() || v.is_string() || v.is_list() || v.is_dict())

// len(x) and x.__getitem__ exist: str, list, tuple, range, dict, Undefined.
bool t_sequence(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("sequence", ca, {});
  if (v.is_list()) {
    ListKind k = v.list().kind;
    return k == ListKind::kList || k == ListKind::kTuple || k == ListKind::kRange;
  }
  return v.is_undefined() || v.is_string() || v.is_dict();
}

bool t_lower(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("lower", ca, {});
  CallArgs none;
  return truthy(call_method(in, Value::string(py_str(v)), "islower", none));
}

bool t_upper(Interpreter& in, const Value& v, CallArgs& ca) {
  Args a("upper", ca, {});
  CallArgs none;
  return truthy(call_method(in, Value::string(py_str(v)), "isupper", none));
}

bool t_divisibleby(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("divisibleby", ca, {"num"}, 1);
  Value m = binary_op(BinOp::kMod, v, a.get(0));
  return py_eq(m, Value::integer(0));
}

bool t_even(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("even", ca, {});
  return py_eq(binary_op(BinOp::kMod, v, Value::integer(2)), Value::integer(0));
}

bool t_odd(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("odd", ca, {});
  return py_eq(binary_op(BinOp::kMod, v, Value::integer(2)), Value::integer(1));
}

template <CmpOp op>
bool t_cmp(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("compare", ca, {"other"}, 1);
  return compare_op(op, v, a.get(0));
}

bool t_in(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("in", ca, {"seq"}, 1);
  return contains(a.get(0), v);
}

// `is` identity: exact for the singletons and small ints CPython caches, for
// shared containers and objects; refused for strings (interning decides).
bool t_sameas(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("sameas", ca, {"other"}, 1);
  Value o = a.get(0);
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kNone: return true;
    case Value::Kind::kUndefined: return false;
    case Value::Kind::kBool: return v.b() == o.b();
    case Value::Kind::kInt:
      if (v.i() >= -5 && v.i() <= 256) return v.i() == o.i();
      if (v.i() != o.i()) return false;
      fail_unsupported("`sameas` on large integers (identity depends on CPython internals)");
    case Value::Kind::kFloat:
      if (v.f() != o.f()) return false;
      fail_unsupported("`sameas` on floats (identity depends on CPython internals)");
    case Value::Kind::kString:
      if (v.s() != o.s()) return false;
      fail_unsupported("`sameas` on strings (identity depends on string interning)");
    case Value::Kind::kList: return &v.list() == &o.list();
    case Value::Kind::kDict: return &v.dict() == &o.dict();
    case Value::Kind::kObject: return &v.obj() == &o.obj();
  }
  return false;
}

bool t_filter(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("filter", ca, {});
  return v.is_string() && is_filter_name(v.s());
}

bool t_test(Interpreter&, const Value& v, CallArgs& ca) {
  Args a("test", ca, {});
  return v.is_string() && is_test_name(v.s());
}

const std::map<std::string_view, TestFn>& registry() {
  static const std::map<std::string_view, TestFn> r = {
      {"boolean", t_boolean},   {"callable", t_callable},   {"defined", t_defined},
      {"divisibleby", t_divisibleby}, {"eq", t_cmp<CmpOp::kEq>}, {"equalto", t_cmp<CmpOp::kEq>},
      {"==", t_cmp<CmpOp::kEq>}, {"escaped", t_escaped},    {"even", t_even},
      {"false", t_false},       {"filter", t_filter},       {"float", t_float},
      {"ge", t_cmp<CmpOp::kGe>}, {">=", t_cmp<CmpOp::kGe>}, {"gt", t_cmp<CmpOp::kGt>},
      {"greaterthan", t_cmp<CmpOp::kGt>}, {">", t_cmp<CmpOp::kGt>}, {"in", t_in},
      {"integer", t_integer},   {"iterable", t_iterable},   {"le", t_cmp<CmpOp::kLe>},
      {"<=", t_cmp<CmpOp::kLe>}, {"lower", t_lower},        {"lt", t_cmp<CmpOp::kLt>},
      {"lessthan", t_cmp<CmpOp::kLt>}, {"<", t_cmp<CmpOp::kLt>}, {"mapping", t_mapping},
      {"ne", t_cmp<CmpOp::kNe>}, {"!=", t_cmp<CmpOp::kNe>}, {"none", t_none},
      {"number", t_number},     {"odd", t_odd},             {"sameas", t_sameas},
      {"sequence", t_sequence}, {"string", t_string},       {"test", t_test},
      {"true", t_true},         {"undefined", t_undefined}, {"upper", t_upper},
  };
  return r;
}

}  // namespace

bool is_test_name(std::string_view name) { return registry().count(name) > 0; }

bool call_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  auto it = registry().find(name);
  if (it == registry().end()) fail_unsupported("test '", name, "'");
  return it->second(in, v, args);
}

}  // namespace dllm::jinja
