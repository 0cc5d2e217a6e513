// Syntax tree of a parsed template: expressions and statements, close to
// jinja2.nodes but only what the parser produces.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace dllm::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// Arguments as written at a call, filter or test site.
struct CallSpec {
  std::vector<ExprPtr> pos;
  std::vector<std::pair<std::string, ExprPtr>> kw;
  ExprPtr star;      // *args
  ExprPtr starstar;  // **kwargs
};

enum class ExprKind : uint8_t {
  kConst,    // value
  kName,     // name
  kGetAttr,  // a[0].name   (also x.0 becomes kGetItem with a constant)
  kGetItem,  // a[0][a[1]]
  kSlice,    // a[0][a[1]:a[2]:a[3]]  (absent parts are null)
  kCall,     // a[0](call)
  kFilter,   // a[0] | name(call); a[0] is null for a filter block's chain root
  kTest,     // a[0] is [not] name(call)
  kNeg,      // -a[0]
  kPos,      // +a[0]
  kNot,      // not a[0]
  kBinary,   // a[0] op a[1]
  kAnd,      // a[0] and a[1]
  kOr,       // a[0] or a[1]
  kCompare,  // a[0] ops[0] a[1] ops[1] a[2] ...
  kCond,     // a[0] if a[1] else a[2]   (a[2] null: undefined)
  kList,     // [a...]
  kTuple,    // (a...)
  kDict,     // {a[0]: a[1], a[2]: a[3], ...}
};

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kConcat };
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr {
  ExprKind kind;
  int line = 0;
  std::string name;  // kName, kGetAttr, kFilter, kTest
  Value value;       // kConst
  BinOp op = BinOp::kAdd;
  bool negated = false;  // kTest: "is not"
  std::vector<CmpOp> cmp;
  std::vector<ExprPtr> a;
  CallSpec call;  // kCall, kFilter, kTest
  int depth = 1;  // height of this subtree (the parser bounds it)
};

// Left side of set/for: a name, a tuple of targets, or namespace.attr.
struct Target {
  enum class Kind : uint8_t { kName, kTuple, kAttr } kind = Kind::kName;
  std::string name;
  std::string attr;  // kAttr
  std::vector<Target> items;
  int line = 0;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required (undefined when not passed)
};

enum class StmtKind : uint8_t {
  kText,         // text
  kPrint,        // {{ expr }}
  kIf,           // branches (cond, body); else_body
  kFor,          // target in expr [if cond] body [else else_body]
  kSet,          // target = expr
  kSetBlock,     // {% set target [| filter] %}body{% endset %}   (filter: expr chain with null root)
  kMacro,        // name(params) body
  kCallBlock,    // {% call(params) expr %}body{% endcall %}
  kFilterBlock,  // {% filter expr %}body{% endfilter %}
  kWith,         // {% with targets = values %}body
  kBreak,
  kContinue,
  kScope,        // body rendered as is ({% generation %} of Hugging Face's AssistantTracker)
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;
  Target target;
  std::vector<Target> targets;      // kWith
  std::vector<ExprPtr> values;      // kWith
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::string name;                 // kMacro
  std::vector<MacroParam> params;   // kMacro, kCallBlock (caller's params)
  bool uses_varargs = false, uses_kwargs = false, uses_caller = false;  // kMacro / caller
};

struct Program {
  Body body;
};

}  // namespace dllm::jinja
