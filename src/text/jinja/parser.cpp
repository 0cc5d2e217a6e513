#include "text/jinja/parser.h"

#include <algorithm>
#include <set>

#include "text/jinja/filters.h"
#include "text/jinja/template_error.h"
#include "text/jinja/tests.h"

namespace dllm::jinja {

namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  Program run() {
    Program p;
    p.body = subparse({});
    if (cur().type != Tok::kEof) fail_syntax(str_cat("unexpected '", describe(cur()), "'"));
    return p;
  }

 private:
  std::vector<Token> t_;
  size_t i_ = 0;
  int loop_depth_ = 0;
  int nesting_ = 0;  // recursion guard: expressions and blocks nest at most kMaxNesting deep
  static constexpr int kMaxNesting = 150;

  struct NestGuard {
    Parser& p;
    explicit NestGuard(Parser& parser) : p(parser) {
      if (++p.nesting_ > kMaxNesting) p.fail_syntax("template nested too deeply");
    }
    ~NestGuard() { --p.nesting_; }
  };
  std::vector<std::set<std::string>*> name_sinks_;  // names referenced inside open macro bodies

  const Token& cur() const { return t_[i_]; }
  const Token& look() const { return t_[i_ + 1 < t_.size() ? i_ + 1 : i_]; }
  const Token& next() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }

  [[noreturn]] void fail_syntax(const std::string& msg) const { throw TemplateError(ErrorKind::kSyntax, msg, cur().line); }
  [[noreturn]] void fail_unsupported(const std::string& msg) const {
    throw TemplateError(ErrorKind::kUnsupported, msg, cur().line);
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::kData: return "template data";
      case Tok::kVarBegin: return "begin of print statement";
      case Tok::kVarEnd: return "end of print statement";
      case Tok::kBlockBegin: return "begin of statement block";
      case Tok::kBlockEnd: return "end of statement block";
      case Tok::kEof: return "end of template";
      default: return t.text;
    }
  }

  bool is_op(const char* op) const { return cur().type == Tok::kOp && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == Tok::kName && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail_syntax(str_cat("expected '", op, "', got '", describe(cur()), "'"));
  }
  std::string expect_name() {
    if (cur().type != Tok::kName) fail_syntax(str_cat("expected a name, got '", describe(cur()), "'"));
    return next().text;
  }
  void expect_name(const char* n) {
    if (!skip_name(n)) fail_syntax(str_cat("expected '", n, "', got '", describe(cur()), "'"));
  }
  void expect(Tok type) {
    if (cur().type != type) {
      Token want;
      want.type = type;
      fail_syntax(str_cat("expected '", describe(want), "', got '", describe(cur()), "'"));
    }
    next();
  }

  // Records the height of a finished node and bounds it: evaluation and
  // destruction recurse over the tree (left-deep chains such as
  // a ~ b ~ c ~ ... grow without nesting brackets).
  ExprPtr finish(ExprPtr e) {
    int d = 0;
    auto see = [&](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    for (const auto& c : e->a) see(c);
    for (const auto& c : e->call.pos) see(c);
    for (const auto& kv : e->call.kw) see(kv.second);
    see(e->call.star);
    see(e->call.starstar);
    e->depth = d + 1;
    if (e->depth > kMaxExprDepth) throw TemplateError(ErrorKind::kSyntax, "expression nested too deeply", e->line);
    return e;
  }
  static constexpr int kMaxExprDepth = 400;

  ExprPtr make(ExprKind k, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = line;
    return e;
  }
  ExprPtr make_const(Value v, int line) {
    auto e = make(ExprKind::kConst, line);
    e->value = std::move(v);
    return e;
  }

  // ---- statements ------------------------------------------------------

  // Parses until a block tag whose keyword is in `end`; stops on that
  // keyword (the block-begin is consumed, the keyword is current).
  Body subparse(const std::set<std::string>& end) {
    NestGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == Tok::kEof) {
        if (!end.empty()) fail_syntax(str_cat("unexpected end of template, expected one of: ", join(end)));
        return body;
      }
      if (t.type == Tok::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.type == Tok::kVarBegin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = t.line;
        s->expr = parse_tuple(true, {}, false);
        expect(Tok::kVarEnd);
        body.push_back(std::move(s));
      } else if (t.type == Tok::kBlockBegin) {
        next();
        if (cur().type == Tok::kName && end.count(cur().text)) return body;
        body.push_back(parse_statement());
      } else {
        fail_syntax(str_cat("unexpected '", describe(t), "'"));
      }
    }
  }

  static std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "'" : ", '") + x + "'";
    return out;
  }

  // The body of a block statement whose opening tag ends at the current
  // block-end: parses to the `end` keyword and consumes "endX %}".
  Body block_body(const char* end_kw) {
    expect(Tok::kBlockEnd);
    Body b = subparse({end_kw});
    next();  // end keyword
    expect(Tok::kBlockEnd);
    return b;
  }

  StmtPtr parse_statement() {
    if (cur().type != Tok::kName) fail_syntax("tag name expected");
    const std::string kw = cur().text;
    const int line = cur().line;
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (kw == "if") {
      next();
      parse_if(*s);
    } else if (kw == "for") {
      next();
      parse_for(*s);
    } else if (kw == "set") {
      next();
      parse_set(*s);
    } else if (kw == "macro") {
      next();
      parse_macro(*s);
    } else if (kw == "call") {
      next();
      parse_call_block(*s);
    } else if (kw == "filter") {
      next();
      s->kind = StmtKind::kFilterBlock;
      s->expr = parse_filter(nullptr, true);
      s->body = block_body("endfilter");
    } else if (kw == "with") {
      next();
      s->kind = StmtKind::kWith;
      while (cur().type != Tok::kBlockEnd) {
        if (!s->targets.empty()) expect_op(",");
        s->targets.push_back(parse_assign_target(true, false, {}));
        expect_op("=");
        s->values.push_back(parse_expression(true));
      }
      s->body = block_body("endwith");
    } else if (kw == "print") {
      next();
      s->kind = StmtKind::kPrint;
      s->expr = parse_tuple(true, {}, false);
      expect(Tok::kBlockEnd);
    } else if (kw == "break" || kw == "continue") {
      next();
      if (loop_depth_ == 0) fail_syntax(str_cat("'", kw, "' outside of a loop"));
      s->kind = kw == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      expect(Tok::kBlockEnd);
    } else if (kw == "generation") {
      next();
      s->kind = StmtKind::kScope;
      s->body = block_body("endgeneration");
    } else if (kw == "block" || kw == "extends" || kw == "include" || kw == "import" || kw == "from" ||
               kw == "autoescape") {
      fail_unsupported(str_cat("the '", kw, "' tag"));
    } else if (kw == "do") {
      // Hugging Face does not load the `do` extension, so Jinja2 rejects it too.
      fail_syntax("Encountered unknown tag 'do'.");
    } else {
      fail_syntax(str_cat("Encountered unknown tag '", kw, "'."));
    }
    return s;
  }

  void parse_if(Stmt& s) {
    s.kind = StmtKind::kIf;
    ExprPtr cond = parse_tuple(false, {}, false);
    expect(Tok::kBlockEnd);
    Body body = subparse({"elif", "else", "endif"});
    s.branches.emplace_back(std::move(cond), std::move(body));
    while (true) {
      std::string kw = next().text;
      if (kw == "elif") {
        ExprPtr c = parse_tuple(false, {}, false);
        expect(Tok::kBlockEnd);
        Body b = subparse({"elif", "else", "endif"});
        s.branches.emplace_back(std::move(c), std::move(b));
      } else if (kw == "else") {
        expect(Tok::kBlockEnd);
        s.else_body = subparse({"endif"});
        next();
        break;
      } else {
        break;  // endif
      }
    }
    expect(Tok::kBlockEnd);
  }

  void parse_for(Stmt& s) {
    s.kind = StmtKind::kFor;
    s.target = parse_assign_target(true, false, {"in"});
    expect_name("in");
    s.expr = parse_tuple(false, {"recursive"}, false);
    if (skip_name("if")) s.cond = parse_expression(true);
    if (is_name("recursive")) fail_unsupported("recursive for loops");
    expect(Tok::kBlockEnd);
    ++loop_depth_;
    s.body = subparse({"endfor", "else"});
    --loop_depth_;
    if (next().text == "else") {
      expect(Tok::kBlockEnd);
      s.else_body = subparse({"endfor"});
      next();
    }
    expect(Tok::kBlockEnd);
  }

  void parse_set(Stmt& s) {
    s.target = parse_assign_target(true, true, {});
    if (skip_op("=")) {
      s.kind = StmtKind::kSet;
      s.expr = parse_tuple(true, {}, false);
      expect(Tok::kBlockEnd);
      return;
    }
    s.kind = StmtKind::kSetBlock;
    if (s.target.kind == Target::Kind::kTuple) fail_syntax("a block set assigns to one name");
    if (is_op("|")) s.expr = parse_filter(nullptr, false);
    s.body = block_body("endset");
  }

  std::vector<MacroParam> parse_signature() {
    std::vector<MacroParam> params;
    expect_op("(");
    while (!is_op(")")) {
      if (!params.empty()) expect_op(",");
      MacroParam p;
      p.name = expect_name();
      if (skip_op("=")) {
        p.default_value = parse_expression(true);
      } else if (!params.empty() && params.back().default_value) {
        fail_syntax("non-default argument follows default argument");
      }
      params.push_back(std::move(p));
    }
    expect_op(")");
    return params;
  }

  // Parses a macro-like body, noting whether it refers to varargs, kwargs
  // or caller (Jinja2 only accepts extra arguments when it does).
  void macro_body(Stmt& s, const char* end_kw) {
    std::set<std::string> names;
    name_sinks_.push_back(&names);
    int saved_loop = loop_depth_;
    loop_depth_ = 0;
    s.body = block_body(end_kw);
    loop_depth_ = saved_loop;
    name_sinks_.pop_back();
    s.uses_varargs = names.count("varargs") > 0;
    s.uses_kwargs = names.count("kwargs") > 0;
    s.uses_caller = names.count("caller") > 0;
  }

  void parse_macro(Stmt& s) {
    s.kind = StmtKind::kMacro;
    s.name = expect_name();
    s.params = parse_signature();
    macro_body(s, "endmacro");
  }

  void parse_call_block(Stmt& s) {
    s.kind = StmtKind::kCallBlock;
    if (is_op("(")) s.params = parse_signature();
    s.expr = parse_expression(true);
    if (s.expr->kind != ExprKind::kCall) fail_syntax("expected call");
    macro_body(s, "endcall");
  }

  Target parse_assign_target(bool with_tuple, bool with_namespace, const std::set<std::string>& extra_end) {
    Target t;
    t.line = cur().line;
    if (with_namespace && cur().type == Tok::kName && look().type == Tok::kOp && look().text == ".") {
      t.kind = Target::Kind::kAttr;
      t.name = next().text;
      next();
      t.attr = expect_name();
      return t;
    }
    if (!with_tuple) {
      t.name = expect_name();
      return t;
    }
    // parse_tuple(simplified=True): names, optionally parenthesised tuples.
    std::vector<Target> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (tuple_end(extra_end)) break;
      items.push_back(parse_target_primary());
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (items.empty()) fail_syntax(str_cat("expected an assignment target, got '", describe(cur()), "'"));
      return std::move(items[0]);
    }
    t.kind = Target::Kind::kTuple;
    t.items = std::move(items);
    return t;
  }

  Target parse_target_primary() {
    if (skip_op("(")) {
      Target t = parse_assign_target(true, false, {});
      expect_op(")");
      return t;
    }
    Target t;
    t.line = cur().line;
    t.name = expect_name();
    if (t.name == "true" || t.name == "false" || t.name == "none" || t.name == "True" || t.name == "False" ||
        t.name == "None")
      fail_syntax(str_cat("can't assign to '", t.name, "'"));
    return t;
  }

  // ---- expressions -------------------------------------------------------

  bool tuple_end(const std::set<std::string>& extra_end) const {
    const Token& t = cur();
    if (t.type == Tok::kVarEnd || t.type == Tok::kBlockEnd || (t.type == Tok::kOp && t.text == ")")) return true;
    return t.type == Tok::kName && extra_end.count(t.text);
  }

  ExprPtr parse_tuple(bool with_condexpr, const std::set<std::string>& extra_end, bool explicit_parens) {
    const int line = cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail_syntax(str_cat("Expected an expression, got '", describe(cur()), "'"));
    }
    auto e = make(ExprKind::kTuple, line);
    e->a = std::move(items);
    return finish(std::move(e));
  }

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    NestGuard guard(*this);
    const int line = cur().line;
    ExprPtr e = parse_or();
    while (skip_name("if")) {
      ExprPtr test = parse_or();
      ExprPtr other;
      if (skip_name("else")) other = parse_condexpr();
      auto c = make(ExprKind::kCond, line);
      c->a.push_back(std::move(e));
      c->a.push_back(std::move(test));
      c->a.push_back(std::move(other));
      e = finish(std::move(c));
    }
    return e;
  }

  ExprPtr binary(ExprKind k, ExprPtr l, ExprPtr r, int line) {
    auto e = make(k, line);
    e->a.push_back(std::move(l));
    e->a.push_back(std::move(r));
    return finish(std::move(e));
  }

  ExprPtr parse_or() {
    const int line = cur().line;
    ExprPtr l = parse_and();
    while (skip_name("or")) l = binary(ExprKind::kOr, std::move(l), parse_and(), line);
    return l;
  }

  ExprPtr parse_and() {
    const int line = cur().line;
    ExprPtr l = parse_not();
    while (skip_name("and")) l = binary(ExprKind::kAnd, std::move(l), parse_not(), line);
    return l;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const int line = next().line;
      NestGuard guard(*this);
      auto e = make(ExprKind::kNot, line);
      e->a.push_back(parse_not());
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      CmpOp op;
      if (is_op("==")) op = CmpOp::kEq;
      else if (is_op("!=")) op = CmpOp::kNe;
      else if (is_op("<")) op = CmpOp::kLt;
      else if (is_op("<=")) op = CmpOp::kLe;
      else if (is_op(">")) op = CmpOp::kGt;
      else if (is_op(">=")) op = CmpOp::kGe;
      else if (is_name("in")) op = CmpOp::kIn;
      else if (is_name("not") && look().type == Tok::kName && look().text == "in") {
        next();
        op = CmpOp::kNotIn;
      } else {
        break;
      }
      next();
      if (!cmp) {
        cmp = make(ExprKind::kCompare, line);
        cmp->a.push_back(std::move(first));
      }
      cmp->cmp.push_back(op);
      cmp->a.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(first);
  }

  ExprPtr bin(BinOp op, ExprPtr l, ExprPtr r, int line) {
    auto e = binary(ExprKind::kBinary, std::move(l), std::move(r), line);  // finished there
    e->op = op;
    return e;
  }

  ExprPtr parse_math1() {
    const int line = cur().line;
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      BinOp op = next().text == "+" ? BinOp::kAdd : BinOp::kSub;
      l = bin(op, std::move(l), parse_concat(), line);
    }
    return l;
  }

  ExprPtr parse_concat() {
    const int line = cur().line;
    ExprPtr l = parse_math2();
    while (skip_op("~")) l = bin(BinOp::kConcat, std::move(l), parse_math2(), line);
    return l;
  }

  ExprPtr parse_math2() {
    const int line = cur().line;
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string o = next().text;
      BinOp op = o == "*" ? BinOp::kMul : o == "/" ? BinOp::kDiv : o == "//" ? BinOp::kFloorDiv : BinOp::kMod;
      l = bin(op, std::move(l), parse_pow(), line);
    }
    return l;
  }

  ExprPtr parse_pow() {
    const int line = cur().line;
    ExprPtr l = parse_unary(true);
    while (skip_op("**")) l = bin(BinOp::kPow, std::move(l), parse_unary(true), line);
    return l;
  }

  ExprPtr parse_unary(bool with_filter) {
    NestGuard guard(*this);
    const int line = cur().line;
    ExprPtr node;
    if (skip_op("-")) {
      node = make(ExprKind::kNeg, line);
      node->a.push_back(parse_unary(false));
      node = finish(std::move(node));
    } else if (skip_op("+")) {
      node = make(ExprKind::kPos, line);
      node->a.push_back(parse_unary(false));
      node = finish(std::move(node));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const int line = t.line;
    if (t.type == Tok::kName) {
      std::string n = next().text;
      auto e = make_const(Value(), line);
      if (n == "true" || n == "True") e->value = Value::boolean(true);
      else if (n == "false" || n == "False") e->value = Value::boolean(false);
      else if (n == "none" || n == "None") e->value = Value::none();
      else {
        e->kind = ExprKind::kName;
        for (auto* sink : name_sinks_) sink->insert(n);
        e->name = std::move(n);
      }
      return e;
    }
    if (t.type == Tok::kString) {
      std::string s;
      while (cur().type == Tok::kString) s += next().text;  // adjacent literals concatenate
      return make_const(Value::string(std::move(s)), line);
    }
    if (t.type == Tok::kInt || t.type == Tok::kFloat) {
      auto e = make_const(t.type == Tok::kInt ? Value::integer(t.ival) : Value::number(t.fval), line);
      next();
      return e;
    }
    if (skip_op("(")) {
      ExprPtr e = parse_tuple(true, {}, true);
      expect_op(")");
      return e;
    }
    if (skip_op("[")) {
      auto e = make(ExprKind::kList, line);
      while (!is_op("]")) {
        if (!e->a.empty()) expect_op(",");
        if (is_op("]")) break;
        e->a.push_back(parse_expression(true));
      }
      expect_op("]");
      return finish(std::move(e));
    }
    if (skip_op("{")) {
      auto e = make(ExprKind::kDict, line);
      while (!is_op("}")) {
        if (!e->a.empty()) expect_op(",");
        if (is_op("}")) break;
        e->a.push_back(parse_expression(true));
        expect_op(":");
        e->a.push_back(parse_expression(true));
      }
      expect_op("}");
      return finish(std::move(e));
    }
    fail_syntax(str_cat("unexpected '", describe(t), "'"));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      const int line = cur().line;
      if (skip_op(".")) {
        if (cur().type == Tok::kName) {
          auto e = make(ExprKind::kGetAttr, line);
          e->name = next().text;
          e->a.push_back(std::move(node));
          node = finish(std::move(e));
        } else if (cur().type == Tok::kInt) {
          auto idx = make_const(Value::integer(next().ival), line);
          node = binary(ExprKind::kGetItem, std::move(node), std::move(idx), line);
        } else {
          fail_syntax("expected name or number");
        }
      } else if (skip_op("[")) {
        node = parse_subscript(std::move(node), line);
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node, int line) {
    ExprPtr start, stop, step;
    bool slice = false;
    if (!is_op(":")) start = parse_expression(true);
    if (skip_op(":")) {
      slice = true;
      if (!is_op(":") && !is_op("]") && !is_op(",")) stop = parse_expression(true);
      if (skip_op(":")) {
        if (!is_op("]") && !is_op(",")) step = parse_expression(true);
      }
    }
    if (is_op(",")) fail_unsupported("subscripts with several items (x[a, b])");
    expect_op("]");
    if (!slice) return binary(ExprKind::kGetItem, std::move(node), std::move(start), line);
    auto e = make(ExprKind::kSlice, line);
    e->a.push_back(std::move(node));
    e->a.push_back(std::move(start));
    e->a.push_back(std::move(stop));
    e->a.push_back(std::move(step));
    return finish(std::move(e));
  }

  CallSpec parse_call_args() {
    CallSpec c;
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) {
        expect_op(",");
        if (is_op(")")) break;
      }
      first = false;
      if (skip_op("*")) {
        if (c.star) fail_syntax("invalid syntax for function call expression");
        c.star = parse_expression(true);
      } else if (skip_op("**")) {
        if (c.starstar) fail_syntax("invalid syntax for function call expression");
        c.starstar = parse_expression(true);
      } else if (cur().type == Tok::kName && look().type == Tok::kOp && look().text == "=") {
        if (c.starstar) fail_syntax("invalid syntax for function call expression");
        std::string key = next().text;
        next();
        c.kw.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (c.star || c.starstar || !c.kw.empty()) fail_syntax("invalid syntax for function call expression");
        c.pos.push_back(parse_expression(true));
      }
    }
    expect_op(")");
    return c;
  }

  ExprPtr parse_call(ExprPtr node) {
    auto e = make(ExprKind::kCall, cur().line);
    e->call = parse_call_args();
    e->a.push_back(std::move(node));
    return finish(std::move(e));
  }

  std::string dotted_name() {
    std::string n = expect_name();
    while (skip_op(".")) {
      n += '.';
      n += expect_name();
    }
    return n;
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      const int line = cur().line;
      auto e = make(ExprKind::kFilter, line);
      e->name = dotted_name();
      if (!is_filter_name(e->name)) {
        throw TemplateError(ErrorKind::kUnsupported, str_cat("unknown or unsupported filter '", e->name, "'"), line);
      }
      if (is_op("(")) e->call = parse_call_args();
      e->a.push_back(std::move(node));
      node = finish(std::move(e));
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    const int line = next().line;  // 'is'
    bool negated = skip_name("not");
    auto e = make(ExprKind::kTest, line);
    e->name = dotted_name();
    e->negated = negated;
    if (!is_test_name(e->name)) {
      throw TemplateError(ErrorKind::kUnsupported, str_cat("unknown or unsupported test '", e->name, "'"), line);
    }
    const Token& t = cur();
    if (is_op("(")) {
      e->call = parse_call_args();
    } else if ((t.type == Tok::kName || t.type == Tok::kString || t.type == Tok::kInt || t.type == Tok::kFloat ||
                (t.type == Tok::kOp && (t.text == "[" || t.text == "{"))) &&
               !(t.type == Tok::kName && (t.text == "else" || t.text == "or" || t.text == "and"))) {
      // Jinja2 takes one argument without parentheses: `x is divisibleby 3`.
      if (is_name("is")) fail_syntax("You cannot chain multiple tests with is");
      e->call.pos.push_back(parse_postfix(parse_primary()));
    }
    e->a.push_back(std::move(node));
    return finish(std::move(e));
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) node = parse_filter(std::move(node), false);
      else if (is_name("is")) node = parse_test(std::move(node));
      else if (is_op("(")) node = parse_call(std::move(node));
      else return node;
    }
  }
};

}  // namespace

Program parse_template(std::string_view source, const LexOptions& opt) {
  Parser p(tokenize(source, opt));
  return p.run();
}

}  // namespace dllm::jinja
