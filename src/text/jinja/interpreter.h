// Renders a parsed template: statements write text, expressions evaluate to
// Values with Jinja2's semantics (its scoping rules included: a for-loop body
// gets a fresh scope each iteration, `if` none, macros see the scope they were
// defined in at call time).
#pragma once
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/value.h"

namespace dllm::jinja {

struct Scope;
using ScopePtr = std::shared_ptr<Scope>;
class Namespace;

struct Scope {
  ScopePtr parent;
  std::vector<std::pair<std::string, Value>> vars;

  explicit Scope(ScopePtr p = nullptr) : parent(std::move(p)) {}
  const Value* lookup(std::string_view name) const;  // walks the parents
  void set(const std::string& name, Value v);       // in this scope
};

struct RenderEnv {
  // Seconds since the epoch that strftime_now() formats (local time), or
  // nullopt for the current time.
  std::function<std::time_t()> now;
};

class Interpreter {
 public:
  Interpreter(const Program& prog, const RenderEnv& env) : prog_(prog), env_(env) {}

  // Renders with `vars` as the template's context (over the builtin globals).
  std::string render(const std::vector<std::pair<std::string, Value>>& vars);

  // Used by filters, tests, methods and objects.
  Value call(const Value& callee, CallArgs& args);
  Value get_attr(const Value& obj, std::string_view name);
  Value get_item(const Value& obj, const Value& key);
  Value apply_filter(const std::string& name, const Value& input, CallArgs& args);
  bool apply_test(const std::string& name, const Value& input, CallArgs& args);
  const RenderEnv& env() const { return env_; }

  // Namespaces are mutable, so they can form reference cycles; the
  // interpreter clears every one it created when the render ends.
  void track(std::shared_ptr<Namespace> ns) { namespaces_.push_back(std::move(ns)); }

  // Jinja2's Expr.as_const(): the value of an expression made of constants,
  // computed as its compiler does at compile time (a slice that fails gives
  // an undefined value there instead of an error), or nullopt when the
  // expression uses a variable or a call, or fails.
  std::optional<Value> try_fold(const Expr& e);

  // Macro and caller invocation (objects call back into the interpreter).
  Value call_macro(const Stmt& def, const std::string& name, const ScopePtr& closure, CallArgs& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec_body(const Body& body, const ScopePtr& scope, std::string& out);
  Flow exec(const Stmt& s, const ScopePtr& scope, std::string& out);
  Flow exec_for(const Stmt& s, const ScopePtr& scope, std::string& out);
  Value eval(const Expr& e, const ScopePtr& scope);
  Value eval_node(const Expr& e, const ScopePtr& scope);
  Value eval_filter_chain(const Expr& e, const ScopePtr& scope, const Value& root);
  CallArgs eval_args(const CallSpec& c, const ScopePtr& scope);
  void assign(const Target& t, const Value& v, const ScopePtr& scope);

  const Program& prog_;
  const RenderEnv& env_;
  // Scopes that a macro closes over (a scope holding its own macro is a
  // reference cycle) and namespaces: cleared at the end of render().
  std::vector<ScopePtr> closures_;
  std::vector<std::shared_ptr<Namespace>> namespaces_;
  int depth_ = 0;   // nested macro calls
  // Evaluating as Jinja2's compile-time as_const() does (see try_fold).
  bool const_mode_ = false;
  int frames_ = 0;  // nested exec/eval calls (bounds the C++ stack)
  struct FrameGuard {
    int& n;
    explicit FrameGuard(int& frames);
    ~FrameGuard() { --n; }
  };
};

// Objects the interpreter creates.
class Namespace : public Object {
 public:
  std::string type_name() const override { return "Namespace"; }
  Value get_attr(std::string_view name) const override;
  std::optional<std::string> str() const override;
  uint32_t depth() const override { return depth_; }
  void set_attr(const std::string& name, Value v);
  void set_all(DictData d);
  void clear() { attrs_.items.clear(); }

 private:
  DictData attrs_;
  uint32_t depth_ = 1;
};

class BuiltinFunction : public Object {
 public:
  using Fn = std::function<Value(Interpreter&, CallArgs&)>;
  BuiltinFunction(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  bool callable() const override { return true; }
  Value call(Interpreter& in, CallArgs& args) const override { return fn_(in, args); }

 private:
  std::string name_;
  Fn fn_;
};

// x.method bound to its receiver (str, dict and list methods).
class BoundMethod : public Object {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  bool callable() const override { return true; }
  Value call(Interpreter& in, CallArgs& args) const override;

 private:
  Value self_;
  std::string name_;
};

class Macro : public Object {
 public:
  Macro(const Stmt* def, std::string name, ScopePtr closure)
      : def_(def), name_(std::move(name)), closure_(std::move(closure)) {}
  std::string type_name() const override { return "Macro"; }
  bool callable() const override { return true; }
  // Jinja2 prints <Macro 'name'>; a call block's caller is anonymous.
  std::optional<std::string> str() const override {
    return name_ == "caller" && def_->kind == StmtKind::kCallBlock ? "<Macro anonymous>" : "<Macro '" + name_ + "'>";
  }
  Value call(Interpreter& in, CallArgs& args) const override { return in.call_macro(*def_, name_, closure_, args); }

 private:
  const Stmt* def_;
  std::string name_;
  ScopePtr closure_;
};

// The builtin globals of the environment: range, dict, namespace,
// raise_exception, strftime_now (Hugging Face's two additions included).
std::vector<std::pair<std::string, Value>> builtin_globals();

}  // namespace dllm::jinja
