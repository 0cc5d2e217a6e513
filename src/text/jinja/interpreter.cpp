#include "text/jinja/interpreter.h"

#include <algorithm>

#include "text/jinja/filters.h"
#include "text/jinja/methods.h"
#include "text/jinja/ops.h"
#include "text/jinja/py_format.h"
#include "text/jinja/template_error.h"
#include "text/jinja/tests.h"
#include "text/jinja/ustring.h"

namespace dllm::jinja {

namespace {

constexpr int kMaxDepth = 200;  // nested macro calls (Jinja2 hits Python's recursion limit near 170)
constexpr int kMaxFrames = 2000;  // nested statements + expressions being evaluated

// Thrown in const mode when an expression is not made of constants
// (Jinja2's nodes.Impossible).
struct NotConstant {};

// The `loop` variable of a for loop. One object per loop (it owns the items,
// so a loop.cycle kept in a namespace stays valid); `index` moves.
class LoopContext : public Object, public std::enable_shared_from_this<LoopContext> {
 public:
  explicit LoopContext(std::vector<Value> items) : items(std::move(items)) {}
  void set_index(size_t i) { i_ = i; }
  std::string type_name() const override { return "LoopContext"; }
  std::optional<std::string> str() const override {
    return str_cat("<LoopContext ", i_ + 1, "/", items.size(), ">");
  }

  Value get_attr(std::string_view name) const override {
    const int64_t n = static_cast<int64_t>(items.size());
    const int64_t i = static_cast<int64_t>(i_);
    if (name == "index") return Value::integer(i + 1);
    if (name == "index0") return Value::integer(i);
    if (name == "revindex") return Value::integer(n - i);
    if (name == "revindex0") return Value::integer(n - i - 1);
    if (name == "first") return Value::boolean(i == 0);
    if (name == "last") return Value::boolean(i == n - 1);
    if (name == "length") return Value::integer(n);
    if (name == "depth") return Value::integer(1);
    if (name == "depth0") return Value::integer(0);
    if (name == "previtem") return i > 0 ? items[i_ - 1] : Value::undefined("there is no previous item");
    if (name == "nextitem") return i + 1 < n ? items[i_ + 1] : Value::undefined("there is no next item");
    if (name == "cycle" || name == "changed")
      return Value::object(std::make_shared<LoopMethod>(shared_from_this(), std::string(name)));
    return Object::get_attr(name);
  }

  Value cycle(CallArgs& args) const {
    if (!args.kw.empty()) fail_runtime("cycle() takes no keyword arguments");
    if (args.pos.empty()) fail_runtime("no items for cycling given");
    return args.pos[i_ % args.pos.size()];
  }

  Value changed(CallArgs& args) const {
    if (!args.kw.empty()) fail_runtime("changed() takes no keyword arguments");
    Value now = Value::list(args.pos);
    if (has_last_ && py_eq(now, last_changed_)) return Value::boolean(false);
    has_last_ = true;
    last_changed_ = now;
    return Value::boolean(true);
  }

  const std::vector<Value> items;

 private:
  class LoopMethod : public Object {
   public:
    LoopMethod(std::shared_ptr<const LoopContext> loop, std::string name) : loop_(std::move(loop)), name_(std::move(name)) {}
    std::string type_name() const override { return "method"; }
    bool callable() const override { return true; }
    Value call(Interpreter&, CallArgs& args) const override {
      return name_ == "cycle" ? loop_->cycle(args) : loop_->changed(args);
    }

   private:
    std::shared_ptr<const LoopContext> loop_;
    std::string name_;
  };

  size_t i_ = 0;
  mutable bool has_last_ = false;
  mutable Value last_changed_;
};

}  // namespace

// ---- scopes -------------------------------------------------------------------

const Value* Scope::lookup(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    for (const auto& [k, v] : s->vars)
      if (k == name) return &v;
  }
  return nullptr;
}

void Scope::set(const std::string& name, Value v) {
  for (auto& [k, old] : vars) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

// ---- objects --------------------------------------------------------------------

Value Namespace::get_attr(std::string_view name) const {
  if (const Value* v = attrs_.find(name)) return *v;
  return Object::get_attr(name);
}

void Namespace::set_attr(const std::string& name, Value v) {
  const uint32_t d = v.depth() + 1;
  if (d > kMaxValueDepth) fail_unsupported("values nested more than ", kMaxValueDepth, " levels deep");
  // Depth only grows here (a cycle, ns.x = ns, keeps it finite; printing
  // handles cycles as Python does).
  depth_ = std::max(depth_, d);
  attrs_.set(Value::string(name), std::move(v));
}

void Namespace::set_all(DictData d) {
  for (auto& [k, v] : d.items) {
    if (!k.is_string()) fail_runtime("namespace() keywords must be strings");
    set_attr(k.s(), std::move(v));
  }
}

std::optional<std::string> Namespace::str() const {
  // Python's repr of the attribute dict shows a dict that is already being
  // printed as {...}.
  thread_local std::vector<const Namespace*> active;
  if (std::find(active.begin(), active.end(), this) != active.end()) return "<Namespace {...}>";
  active.push_back(this);
  struct Pop {
    ~Pop() { active.pop_back(); }
  } pop;
  return "<Namespace " + py_repr(Value::dict(attrs_)) + ">";
}

Value BoundMethod::call(Interpreter& in, CallArgs& args) const { return call_method(in, self_, name_, args); }

// ---- rendering --------------------------------------------------------------------

std::string Interpreter::render(const std::vector<std::pair<std::string, Value>>& vars) {
  auto globals = std::make_shared<Scope>();
  for (auto& [k, v] : builtin_globals()) globals->set(k, v);
  for (const auto& [k, v] : vars) globals->set(k, v);
  auto top = std::make_shared<Scope>(globals);
  closures_.clear();
  namespaces_.clear();
  struct BreakCycles {
    Interpreter& in;
    ~BreakCycles() {
      for (auto& ns : in.namespaces_) ns->clear();
      for (auto& sc : in.closures_) sc->vars.clear();
      in.namespaces_.clear();
      in.closures_.clear();
    }
  } break_cycles{*this};
  std::string out;
  exec_body(prog_.body, top, out);
  return out;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interpreter::FrameGuard::FrameGuard(int& frames) : n(frames) {
  if (++n > kMaxFrames) {
    --n;
    fail_runtime("template recursion too deep");
  }
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const ScopePtr& scope, std::string& out) {
  try {
    FrameGuard frame(frames_);
    switch (s.kind) {
      case StmtKind::kText: out += s.text; return Flow::kNormal;
      case StmtKind::kPrint: {
        // Jinja2 first tries to compute a printed expression at compile time.
        std::optional<Value> folded = try_fold(*s.expr);
        out += py_str(folded ? *folded : eval(*s.expr, scope));
        return Flow::kNormal;
      }
      case StmtKind::kIf:
        for (const auto& [cond, body] : s.branches)
          if (truthy(eval(*cond, scope))) return exec_body(body, scope, out);
        return exec_body(s.else_body, scope, out);
      case StmtKind::kFor: return exec_for(s, scope, out);
      case StmtKind::kSet: assign(s.target, eval(*s.expr, scope), scope); return Flow::kNormal;
      case StmtKind::kSetBlock: {
        std::string buf;
        exec_body(s.body, std::make_shared<Scope>(scope), buf);
        Value v = Value::string(std::move(buf));
        if (s.expr) v = eval_filter_chain(*s.expr, scope, v);
        assign(s.target, v, scope);
        return Flow::kNormal;
      }
      case StmtKind::kMacro:
        closures_.push_back(scope);
        scope->set(s.name, Value::object(std::make_shared<Macro>(&s, s.name, scope)));
        return Flow::kNormal;
      case StmtKind::kCallBlock: {
        // The body becomes `caller`, passed to the called macro.
        const Expr& call = *s.expr;
        Value callee = eval(*call.a[0], scope);
        CallArgs args = eval_args(call.call, scope);
        closures_.push_back(scope);
        args.kw.emplace_back("caller", Value::object(std::make_shared<Macro>(&s, "caller", scope)));
        out += py_str(this->call(callee, args));
        return Flow::kNormal;
      }
      case StmtKind::kFilterBlock: {
        std::string buf;
        exec_body(s.body, std::make_shared<Scope>(scope), buf);
        out += py_str(eval_filter_chain(*s.expr, scope, Value::string(std::move(buf))));
        return Flow::kNormal;
      }
      case StmtKind::kWith: {
        auto inner = std::make_shared<Scope>(scope);
        std::vector<Value> vals;
        for (const auto& v : s.values) vals.push_back(eval(*v, scope));
        for (size_t i = 0; i < s.targets.size(); ++i) assign(s.targets[i], vals[i], inner);
        return exec_body(s.body, inner, out);
      }
      case StmtKind::kBreak: return Flow::kBreak;
      case StmtKind::kContinue: return Flow::kContinue;
      case StmtKind::kScope: return exec_body(s.body, scope, out);
    }
  } catch (const TemplateError& e) {
    if (e.line() == 0) throw e.with_line(s.line);
    throw;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Value seq = eval(*s.expr, scope);
  std::vector<Value> all = iterate(seq);
  std::vector<Value> items;
  if (s.cond) {
    // `for x in xs if cond`: filtered before the loop, so loop.* counts only
    // the items that pass.
    for (const Value& v : all) {
      auto test_scope = std::make_shared<Scope>(scope);
      assign(s.target, v, test_scope);
      if (truthy(eval(*s.cond, test_scope))) items.push_back(v);
    }
  } else {
    items = std::move(all);
  }
  if (items.empty()) return exec_body(s.else_body, scope, out);
  auto loop = std::make_shared<LoopContext>(std::move(items));
  Value loop_value = Value::object(loop);
  for (size_t i = 0; i < loop->items.size(); ++i) {
    loop->set_index(i);
    auto iter_scope = std::make_shared<Scope>(scope);  // fresh each iteration, as in Jinja2
    iter_scope->set("loop", loop_value);
    assign(s.target, loop->items[i], iter_scope);
    Flow f = exec_body(s.body, iter_scope, out);
    if (f == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

void Interpreter::assign(const Target& t, const Value& v, const ScopePtr& scope) {
  switch (t.kind) {
    case Target::Kind::kName: scope->set(t.name, v); return;
    case Target::Kind::kTuple: {
      std::vector<Value> parts = iterate(v);
      if (parts.size() < t.items.size())
        fail_runtime("not enough values to unpack (expected ", t.items.size(), ", got ", parts.size(), ")");
      if (parts.size() > t.items.size()) fail_runtime("too many values to unpack (expected ", t.items.size(), ")");
      for (size_t i = 0; i < parts.size(); ++i) assign(t.items[i], parts[i], scope);
      return;
    }
    case Target::Kind::kAttr: {
      const Value* ns = scope->lookup(t.name);
      if (!ns || ns->is_undefined()) fail_runtime("'", t.name, "' is undefined");
      auto* obj = ns->is_object() ? dynamic_cast<Namespace*>(&ns->obj()) : nullptr;
      if (!obj) fail_runtime("cannot assign attribute on non-namespace object");
      obj->set_attr(t.attr, v);
      return;
    }
  }
}

// ---- expressions ----------------------------------------------------------------

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
  try {
    FrameGuard frame(frames_);
    return eval_node(e, scope);
  } catch (const TemplateError& err) {
    if (err.line() == 0 && e.line > 0) throw err.with_line(e.line);
    throw;
  }
}

CallArgs Interpreter::eval_args(const CallSpec& c, const ScopePtr& scope) {
  CallArgs a;
  for (const auto& p : c.pos) a.pos.push_back(eval(*p, scope));
  if (c.star) {
    for (auto& v : iterate(eval(*c.star, scope))) a.pos.push_back(v);
  }
  for (const auto& [k, v] : c.kw) a.kw.emplace_back(k, eval(*v, scope));
  if (c.starstar) {
    Value d = eval(*c.starstar, scope);
    if (!d.is_dict()) fail_runtime("argument after ** must be a mapping, not ", py_type_name(d));
    for (const auto& [k, v] : d.dict().items) {
      if (!k.is_string()) fail_runtime("keywords must be strings");
      a.kw.emplace_back(k.s(), v);
    }
  }
  return a;
}

Value Interpreter::eval_filter_chain(const Expr& e, const ScopePtr& scope, const Value& root) {
  Value input = e.a[0] ? eval_filter_chain(*e.a[0], scope, root) : root;
  CallArgs args = eval_args(e.call, scope);
  return apply_filter(e.name, input, args);
}

Value Interpreter::eval_node(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::kConst: return e.value;
    case ExprKind::kName: {
      if (const_mode_) throw NotConstant();
      if (const Value* v = scope->lookup(e.name)) return *v;
      return Value::undefined(str_cat("'", e.name, "' is undefined"));
    }
    case ExprKind::kGetAttr: return get_attr(eval(*e.a[0], scope), e.name);
    case ExprKind::kGetItem: {
      Value obj = eval(*e.a[0], scope);
      return get_item(obj, eval(*e.a[1], scope));
    }
    case ExprKind::kSlice: {
      Value obj = eval(*e.a[0], scope);
      Value parts[3];
      for (int i = 0; i < 3; ++i) parts[i] = e.a[1 + i] ? eval(*e.a[1 + i], scope) : Value::none();
      return slice_value(obj, parts[0], parts[1], parts[2], const_mode_);
    }
    case ExprKind::kCall: {
      if (const_mode_) throw NotConstant();
      Value callee = eval(*e.a[0], scope);
      CallArgs args = eval_args(e.call, scope);
      return call(callee, args);
    }
    case ExprKind::kFilter: {
      // Filters that take the render context are never folded.
      if (const_mode_ && (!e.a[0] || e.name == "map" || e.name == "select" || e.name == "reject" ||
                          e.name == "selectattr" || e.name == "rejectattr"))
        throw NotConstant();
      Value input = eval(*e.a[0], scope);
      CallArgs args = eval_args(e.call, scope);
      return apply_filter(e.name, input, args);
    }
    case ExprKind::kTest: {
      Value input = eval(*e.a[0], scope);
      CallArgs args = eval_args(e.call, scope);
      bool r = apply_test(e.name, input, args);
      return Value::boolean(e.negated ? !r : r);
    }
    case ExprKind::kNeg: return negate(eval(*e.a[0], scope));
    case ExprKind::kPos: return positive(eval(*e.a[0], scope));
    case ExprKind::kNot: return Value::boolean(!truthy(eval(*e.a[0], scope)));
    case ExprKind::kBinary: {
      Value l = eval(*e.a[0], scope);
      Value r = eval(*e.a[1], scope);
      return binary_op(e.op, l, r);
    }
    case ExprKind::kAnd: {
      Value l = eval(*e.a[0], scope);
      return truthy(l) ? eval(*e.a[1], scope) : l;
    }
    case ExprKind::kOr: {
      Value l = eval(*e.a[0], scope);
      return truthy(l) ? l : eval(*e.a[1], scope);
    }
    case ExprKind::kCompare: {
      Value left = eval(*e.a[0], scope);
      for (size_t i = 0; i < e.cmp.size(); ++i) {
        Value right = eval(*e.a[i + 1], scope);
        if (!compare_op(e.cmp[i], left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::kCond: {
      if (truthy(eval(*e.a[1], scope))) return eval(*e.a[0], scope);
      if (e.a[2]) return eval(*e.a[2], scope);
      if (const_mode_) throw NotConstant();
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined.");
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.a.size());
      for (const auto& x : e.a) items.push_back(eval(*x, scope));
      return Value::list(std::move(items), e.kind == ExprKind::kTuple ? ListKind::kTuple : ListKind::kList);
    }
    case ExprKind::kDict: {
      DictData d;
      for (size_t i = 0; i + 1 < e.a.size(); i += 2) {
        Value k = eval(*e.a[i], scope);
        if ((k.is_list() && k.list().kind != ListKind::kTuple) || k.is_dict() || k.is_undefined())
          fail_runtime("unhashable type: '", py_type_name(k), "'");
        d.set(std::move(k), eval(*e.a[i + 1], scope));
      }
      return Value::dict(std::move(d));
    }
  }
  return Value();
}

std::optional<Value> Interpreter::try_fold(const Expr& e) {
  if (e.kind == ExprKind::kConst) return e.value;
  const bool saved = const_mode_;
  const_mode_ = true;
  struct Restore {
    bool& flag;
    bool value;
    ~Restore() { flag = value; }
  } restore{const_mode_, saved};
  try {
    return eval(e, std::make_shared<Scope>());
  } catch (const NotConstant&) {
    return std::nullopt;
  } catch (const TemplateError&) {
    return std::nullopt;
  }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) fail_undefined(callee);
  if (!callee.is_object() || !callee.obj().callable()) fail_runtime("'", py_type_name(callee), "' object is not callable");
  return callee.obj().call(*this, args);
}

static std::string type_repr(const Value& obj) {
  if (obj.is_none()) return "None";
  return str_cat("'", py_type_name(obj), " object'");
}

Value Interpreter::get_attr(const Value& obj, std::string_view name) {
  // Jinja2 (sandboxed): getattr(obj, name), then obj[name], else undefined.
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_object()) return obj.obj().get_attr(name);
  if (has_method(obj, name)) return Value::object(std::make_shared<BoundMethod>(obj, std::string(name)));
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().find(name)) return *v;
  }
  return Value::undefined(str_cat(type_repr(obj), " has no attribute '", name, "'"));
}

Value Interpreter::get_item(const Value& obj, const Value& key) {
  // Jinja2 (sandboxed): obj[key], then getattr(obj, key) for a str key,
  // else undefined.
  if (obj.is_undefined()) fail_undefined(obj);
  switch (obj.kind()) {
    case Value::Kind::kDict: {
      if ((key.is_list() && key.list().kind != ListKind::kTuple) || key.is_dict()) break;  // unhashable: TypeError
      if (const Value* v = obj.dict().find(key)) return *v;
      break;
    }
    case Value::Kind::kList:
    case Value::Kind::kString: {
      if (obj.is_list() && obj.list().kind != ListKind::kList && obj.list().kind != ListKind::kTuple &&
          obj.list().kind != ListKind::kRange)
        break;  // views and generators are not subscriptable
      if (!(key.is_int() || key.is_bool())) break;
      int64_t i = key.i();
      if (obj.is_list()) {
        const auto& items = obj.list().items;
        int64_t n = static_cast<int64_t>(items.size());
        if (i < 0) i += n;
        if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
        return Value::undefined(str_cat(type_repr(obj), " has no element ", key.i()));
      }
      std::u32string u = to_u32(obj.s());
      int64_t n = static_cast<int64_t>(u.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        std::string c;
        append_utf8(c, u[static_cast<size_t>(i)]);
        return Value::string(std::move(c), obj.markup());
      }
      return Value::undefined(str_cat(type_repr(obj), " has no element ", key.i()));
    }
    case Value::Kind::kObject:
      if (key.is_string()) return obj.obj().get_attr(key.s());
      break;
    default: break;
  }
  if (key.is_string() && has_method(obj, key.s()))
    return Value::object(std::make_shared<BoundMethod>(obj, key.s()));
  if (key.is_string()) return Value::undefined(str_cat(type_repr(obj), " has no attribute '", key.s(), "'"));
  return Value::undefined(str_cat(type_repr(obj), " has no element ", py_repr(key)));
}

Value Interpreter::apply_filter(const std::string& name, const Value& input, CallArgs& args) {
  return call_filter(*this, name, input, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& input, CallArgs& args) {
  return call_test(*this, name, input, args);
}

Value Interpreter::call_macro(const Stmt& def, const std::string& name, const ScopePtr& closure, CallArgs& args) {
  if (depth_ >= kMaxDepth) fail_runtime("maximum recursion depth exceeded in macro '", name, "'");
  auto scope = std::make_shared<Scope>(closure);
  const auto& params = def.params;
  std::vector<bool> bound(params.size(), false);
  std::vector<Value> extra_pos;
  for (size_t i = 0; i < args.pos.size(); ++i) {
    if (i < params.size()) {
      scope->set(params[i].name, args.pos[i]);
      bound[i] = true;
    } else {
      extra_pos.push_back(args.pos[i]);
    }
  }
  if (!extra_pos.empty() && !def.uses_varargs)
    fail_runtime("macro '", name, "' takes not more than ", params.size(), " argument(s)");
  DictData extra_kw;
  Value caller;
  bool has_caller = false;
  for (auto& [k, v] : args.kw) {
    size_t i = 0;
    while (i < params.size() && params[i].name != k) ++i;
    if (i < params.size()) {
      if (bound[i]) fail_runtime("macro '", name, "' got multiple values for argument '", k, "'");
      scope->set(k, v);
      bound[i] = true;
    } else if (k == "caller" && def.uses_caller) {
      caller = v;
      has_caller = true;
    } else if (def.uses_kwargs) {
      extra_kw.set(Value::string(k), v);
    } else {
      fail_runtime("macro '", name, "' takes no keyword argument '", k, "'");
    }
  }
  ++depth_;
  struct DepthGuard {
    int& d;
    ~DepthGuard() { --d; }
  } guard{depth_};
  for (size_t i = 0; i < params.size(); ++i) {
    if (bound[i]) continue;
    if (params[i].default_value) scope->set(params[i].name, eval(*params[i].default_value, scope));
    else scope->set(params[i].name, Value::undefined(str_cat("parameter '", params[i].name, "' was not provided")));
  }
  if (def.uses_varargs) scope->set("varargs", Value::list(std::move(extra_pos), ListKind::kTuple));
  if (def.uses_kwargs) scope->set("kwargs", Value::dict(std::move(extra_kw)));
  if (def.uses_caller) scope->set("caller", has_caller ? caller : Value::undefined("No caller defined"));
  std::string out;
  exec_body(def.body, scope, out);
  return Value::string(std::move(out));
}

}  // namespace dllm::jinja
