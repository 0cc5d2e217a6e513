#include "text/jinja/optimizer.h"

#include "text/jinja/interpreter.h"

namespace dllm::jinja {

bool has_safe_repr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNone:
    case Value::Kind::kBool:
    case Value::Kind::kInt:
    case Value::Kind::kFloat:
    case Value::Kind::kString: return true;
    case Value::Kind::kList:
      if (v.list().kind != ListKind::kList && v.list().kind != ListKind::kTuple) return false;
      for (const auto& x : v.list().items)
        if (!has_safe_repr(x)) return false;
      return true;
    case Value::Kind::kDict:
      for (const auto& [k, x] : v.dict().items)
        if (!has_safe_repr(k) || !has_safe_repr(x)) return false;
      return true;
    default: return false;
  }
}

namespace {

class Folder {
 public:
  Folder() : in_(empty_, env_) {}

  void body(Body& b) {
    for (auto& s : b) stmt(*s);
  }

 private:
  Program empty_;
  RenderEnv env_;
  Interpreter in_;

  // Post-order, as Jinja2's NodeTransformer: children first, then the node.
  void expr(ExprPtr& e) {
    if (!e) return;
    for (auto& c : e->a) expr(c);
    for (auto& c : e->call.pos) expr(c);
    for (auto& kv : e->call.kw) expr(kv.second);
    expr(e->call.star);
    expr(e->call.starstar);
    if (e->kind == ExprKind::kConst || e->kind == ExprKind::kName) return;
    std::optional<Value> v = in_.try_fold(*e);
    if (!v || !has_safe_repr(*v)) return;
    auto c = std::make_unique<Expr>();
    c->kind = ExprKind::kConst;
    c->line = e->line;
    c->value = std::move(*v);
    e = std::move(c);
  }

  void stmt(Stmt& s) {
    expr(s.expr);
    expr(s.cond);
    for (auto& v : s.values) expr(v);
    for (auto& [cond, b] : s.branches) {
      expr(cond);
      body(b);
    }
    for (auto& p : s.params) expr(p.default_value);
    body(s.body);
    body(s.else_body);
  }
};

}  // namespace

void fold_constants(Program& prog) {
  Folder f;
  f.body(prog.body);
}

}  // namespace dllm::jinja
