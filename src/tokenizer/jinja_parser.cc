#include "tokenizer/jinja_parser.h"

#include <algorithm>

#include "tokenizer/jinja_lexer.h"

namespace moeinfer::jinja {

namespace {

constexpr int kMaxExprDepth = 300;  // expression tree height
constexpr int kMaxBlockDepth = 200;  // nested statements
constexpr int kMaxElifs = 5000;      // elif branches of one if

// Whether a name is read anywhere in a tree (Jinja decides from this whether a macro accepts extra
// positional or keyword arguments: only when its body uses `varargs` / `kwargs`).
bool uses_name(const Expr* e, const std::string& name) {
  if (!e) return false;
  if (e->kind == ExprKind::kName && e->name == name) return true;
  if (uses_name(e->node.get(), name) || uses_name(e->dyn_args.get(), name) || uses_name(e->dyn_kwargs.get(), name))
    return true;
  for (const auto& a : e->args)
    if (uses_name(a.get(), name)) return true;
  for (const auto& kw : e->kwargs)
    if (uses_name(kw.second.get(), name)) return true;
  return false;
}

bool uses_name(const Body& body, const std::string& name) {
  for (const auto& s : body) {
    if (uses_name(s->expr.get(), name) || uses_name(s->target.get(), name) || uses_name(s->cond.get(), name) ||
        uses_name(s->body, name) || uses_name(s->else_body, name))
      return true;
    for (const auto& d : s->defaults)
      if (uses_name(d.get(), name)) return true;
    for (const auto& v : s->values)
      if (uses_name(v.get(), name)) return true;
  }
  return false;
}

struct OpenBlock {
  std::string name;
  int line;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  std::unique_ptr<Program> run() {
    auto prog = std::make_unique<Program>();
    prog->body = subparse({});
    return prog;
  }

 private:
  // ---- token stream ----
  const Token& cur() const { return toks_[pos_]; }
  const Token& look() const { return toks_[std::min(pos_ + 1, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool is_op(std::string_view op) const { return cur().type == TokenType::kOperator && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == TokenType::kName && cur().text == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kEof:
        return "end of template";
      case TokenType::kBlockEnd:
        return "end of statement block";
      case TokenType::kVarEnd:
        return "end of print statement";
      case TokenType::kBlockBegin:
        return "begin of statement block";
      case TokenType::kVarBegin:
        return "begin of print statement";
      case TokenType::kData:
        return "template data";
      case TokenType::kString:
        return "string";
      default:
        return "'" + t.text + "'";
    }
  }

  [[noreturn]] void fail(const std::string& msg, int line = 0) const {
    throw SyntaxError(msg, line ? line : cur().line);
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected '" + std::string(op) + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != TokenType::kName) fail("expected a name, got " + describe(cur()));
    return next().text;
  }
  void expect(TokenType type, const char* what) {
    if (cur().type != type) fail(std::string("expected ") + what + ", got " + describe(cur()));
    next();
  }

  // ---- node helpers ----
  static ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }
  // Records the subtree height and rejects trees too deep to evaluate safely.
  ExprPtr finish(ExprPtr e) const {
    int d = 0;
    auto see = [&](const ExprPtr& c) {
      if (c) d = std::max(d, c->depth);
    };
    see(e->node);
    for (const auto& a : e->args) see(a);
    for (const auto& kw : e->kwargs) see(kw.second);
    see(e->dyn_args);
    see(e->dyn_kwargs);
    e->depth = d + 1;
    if (e->depth > kMaxExprDepth) fail("expression nested too deeply", e->line);
    return e;
  }

  // ---- statements ----
  Body subparse(const std::vector<std::string>& end_tokens) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.type == TokenType::kVarBegin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = cur().line;
        s->expr = parse_tuple(false, true, {}, false);
        expect(TokenType::kVarEnd, "end of print statement");
        body.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        next();
        if (cur().type == TokenType::kName &&
            std::find(end_tokens.begin(), end_tokens.end(), cur().text) != end_tokens.end())
          return body;
        Body stmts = parse_statement();
        for (auto& s : stmts) body.push_back(std::move(s));
        expect(TokenType::kBlockEnd, "end of statement block");
      } else if (t.type == TokenType::kEof) {
        return body;
      } else {
        fail("unexpected " + describe(t));
      }
    }
  }

  static std::string quote_list(const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) s += i + 1 == names.size() ? " or " : ", ";
      s += "'" + names[i] + "'";
    }
    return s;
  }

  std::string looking_for() const {
    if (expected_.empty()) return "";
    std::string s = " Jinja was looking for the following tags: " + quote_list(expected_.back()) + ".";
    if (!open_.empty())
      s += " The innermost block that needs to be closed is '" + open_.back().name + "' (line " +
           std::to_string(open_.back().line) + ").";
    return s;
  }

  Body parse_statements(const std::vector<std::string>& end_tokens, bool drop_needle) {
    skip_op(":");
    expect(TokenType::kBlockEnd, "end of statement block");
    expected_.push_back(end_tokens);
    Body body = subparse(end_tokens);
    if (cur().type == TokenType::kEof) fail("unexpected end of template." + looking_for());
    expected_.pop_back();
    if (drop_needle) next();
    return body;
  }

  Body parse_statement() {
    if (cur().type != TokenType::kName) fail("tag name expected, got " + describe(cur()));
    const std::string name = cur().text;
    const int line = cur().line;
    if (static_cast<int>(open_.size()) >= kMaxBlockDepth) fail("blocks nested too deeply");
    open_.push_back({name, line});
    Body out;
    if (name == "for") {
      out.push_back(parse_for());
    } else if (name == "if") {
      out.push_back(parse_if());
    } else if (name == "set") {
      out.push_back(parse_set());
    } else if (name == "macro") {
      out.push_back(parse_macro());
    } else if (name == "call") {
      out.push_back(parse_call_block());
    } else if (name == "filter") {
      out.push_back(parse_filter_block());
    } else if (name == "with") {
      out.push_back(parse_with());
    } else if (name == "generation") {
      next();
      auto s = std::make_unique<Stmt>();
      s->kind = StmtKind::kScope;
      s->line = line;
      s->body = parse_statements({"endgeneration"}, true);
      out.push_back(std::move(s));
    } else if (name == "print") {
      next();
      do {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = line;
        s->expr = parse_expression(true);
        out.push_back(std::move(s));
      } while (skip_op(","));
    } else if (name == "break" || name == "continue") {
      next();
      if (loop_depth_ == 0) fail("'" + name + "' outside of a loop", line);
      auto s = std::make_unique<Stmt>();
      s->kind = name == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      s->line = line;
      out.push_back(std::move(s));
    } else if (name == "block" || name == "extends" || name == "include" || name == "import" || name == "from" ||
               name == "autoescape") {
      fail("the '" + name + "' tag is not supported in chat templates", line);
    } else {
      open_.pop_back();
      fail("encountered unknown tag '" + name + "'." + looking_for(), line);
    }
    open_.pop_back();
    return out;
  }

  StmtPtr parse_for() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kFor;
    s->line = next().line;
    s->target = parse_assign_target(true, false, {"in"}, false);
    if (!skip_name("in")) fail("expected 'in', got " + describe(cur()));
    s->expr = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) s->cond = parse_expression(true);
    s->recursive = skip_name("recursive");
    ++loop_depth_;
    s->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    if (next().text != "endfor") s->else_body = parse_statements({"endfor"}, true);
    return s;
  }

  StmtPtr parse_if() {
    auto root = std::make_unique<Stmt>();
    root->kind = StmtKind::kIf;
    root->line = next().line;
    Stmt* node = root.get();
    int elifs = 0;
    while (true) {
      node->expr = parse_tuple(false, false, {}, false);
      node->body = parse_statements({"elif", "else", "endif"}, false);
      const Token& t = next();
      if (t.text == "elif") {
        // Each elif nests one level (freeing the tree recurses), so chains are bounded too.
        if (++elifs > kMaxElifs) fail("too many elif branches", t.line);
        auto elif = std::make_unique<Stmt>();
        elif->kind = StmtKind::kIf;
        elif->line = t.line;
        Stmt* raw = elif.get();
        node->else_body.push_back(std::move(elif));
        node = raw;
        continue;
      }
      if (t.text == "else") node->else_body = parse_statements({"endif"}, true);
      break;
    }
    return root;
  }

  StmtPtr parse_set() {
    auto s = std::make_unique<Stmt>();
    s->line = next().line;
    s->target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      s->kind = StmtKind::kSet;
      s->expr = parse_tuple(false, true, {}, false);
      return s;
    }
    s->kind = StmtKind::kSetBlock;
    if (is_op("|")) s->expr = parse_filter(nullptr, false);
    s->body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      s.params.push_back(expect_name());
      if (skip_op("=")) {
        s.defaults.push_back(parse_expression(true));
      } else if (!s.defaults.empty()) {
        fail("non-default argument follows default argument");
      }
    }
    expect_op(")");
  }

  StmtPtr parse_macro() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kMacro;
    s->line = next().line;
    s->text = expect_name();
    parse_signature(*s);
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved;
    s->catch_varargs = uses_name(s->body, "varargs");
    s->catch_kwargs = uses_name(s->body, "kwargs");
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kCallBlock;
    s->line = next().line;
    if (is_op("(")) parse_signature(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::kCall) fail("expected call", s->line);
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_statements({"endcall"}, true);
    loop_depth_ = saved;
    s->catch_varargs = uses_name(s->body, "varargs");
    s->catch_kwargs = uses_name(s->body, "kwargs");
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kFilterBlock;
    s->line = next().line;
    s->expr = parse_filter(nullptr, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
    auto s = std::make_unique<Stmt>();
    s->kind = StmtKind::kWith;
    s->line = next().line;
    while (cur().type != TokenType::kBlockEnd) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(parse_assign_target(true, false, {}, false));
      expect_op("=");
      s->values.push_back(parse_expression(true));
    }
    s->body = parse_statements({"endwith"}, true);
    return s;
  }

  static bool can_assign(const Expr& e) {
    if (e.kind == ExprKind::kName) return true;
    if (e.kind == ExprKind::kTuple) {
      for (const auto& a : e.args)
        if (!can_assign(*a)) return false;
      return true;
    }
    return false;
  }

  ExprPtr parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra_end,
                              bool with_namespace) {
    const int line = cur().line;
    ExprPtr target;
    if (with_namespace && look().type == TokenType::kOperator && look().text == ".") {
      auto ns = make(ExprKind::kName, line);
      ns->name = expect_name();
      next();  // the dot
      target = make(ExprKind::kGetAttr, line);
      target->name = expect_name();
      target->node = std::move(ns);
      return finish(std::move(target));
    }
    if (name_only) {
      target = make(ExprKind::kName, line);
      target->name = expect_name();
      return target;
    }
    target = with_tuple ? parse_tuple(true, true, extra_end, false) : parse_primary();
    if (!can_assign(*target)) fail("can't assign to this expression", line);
    return target;
  }

  // ---- expressions ----
  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    const int line = cur().line;
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      ExprPtr expr2 = parse_or();
      if (++nesting_ > kMaxExprDepth) fail("expression nested too deeply");
      ExprPtr expr3 = skip_name("else") ? parse_condexpr() : nullptr;
      --nesting_;
      auto c = make(ExprKind::kCond, line);
      c->args.push_back(std::move(expr2));
      c->args.push_back(std::move(expr1));
      c->args.push_back(std::move(expr3));
      expr1 = finish(std::move(c));
    }
    return expr1;
  }

  ExprPtr binary(ExprKind kind, ExprPtr left, ExprPtr right, int line) {
    auto e = make(kind, line);
    e->args.push_back(std::move(left));
    e->args.push_back(std::move(right));
    return finish(std::move(e));
  }

  ExprPtr parse_or() {
    const int line = cur().line;
    ExprPtr left = parse_and();
    while (skip_name("or")) left = binary(ExprKind::kOr, std::move(left), parse_and(), line);
    return left;
  }

  ExprPtr parse_and() {
    const int line = cur().line;
    ExprPtr left = parse_not();
    while (skip_name("and")) left = binary(ExprKind::kAnd, std::move(left), parse_not(), line);
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const int line = next().line;
      if (++nesting_ > kMaxExprDepth) fail("expression nested too deeply");
      auto e = make(ExprKind::kNot, line);
      e->node = parse_not();
      --nesting_;
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr expr = parse_math1();
    ExprPtr cmp;
    while (true) {
      CmpOp op;
      if (is_op("==")) {
        op = CmpOp::kEq;
      } else if (is_op("!=")) {
        op = CmpOp::kNe;
      } else if (is_op("<")) {
        op = CmpOp::kLt;
      } else if (is_op("<=")) {
        op = CmpOp::kLe;
      } else if (is_op(">")) {
        op = CmpOp::kGt;
      } else if (is_op(">=")) {
        op = CmpOp::kGe;
      } else if (is_name("in")) {
        op = CmpOp::kIn;
      } else if (is_name("not") && look().type == TokenType::kName && look().text == "in") {
        next();
        op = CmpOp::kNotIn;
      } else {
        break;
      }
      next();
      if (!cmp) {
        cmp = make(ExprKind::kCompare, line);
        cmp->args.push_back(std::move(expr));
      }
      cmp->cmp.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(expr);
  }

  ExprPtr parse_math1() {
    const int line = cur().line;
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const BinOp op = next().text == "+" ? BinOp::kAdd : BinOp::kSub;
      left = binary(ExprKind::kBinary, std::move(left), parse_concat(), line);
      left->op = op;
    }
    return left;
  }

  ExprPtr parse_concat() {
    const int line = cur().line;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = make(ExprKind::kConcat, line);
    e->args.push_back(std::move(first));
    while (skip_op("~")) e->args.push_back(parse_math2());
    return finish(std::move(e));
  }

  ExprPtr parse_math2() {
    const int line = cur().line;
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string t = next().text;
      const BinOp op = t == "*" ? BinOp::kMul : t == "/" ? BinOp::kDiv : t == "//" ? BinOp::kFloorDiv : BinOp::kMod;
      left = binary(ExprKind::kBinary, std::move(left), parse_pow(), line);
      left->op = op;
    }
    return left;
  }

  ExprPtr parse_pow() {
    const int line = cur().line;
    ExprPtr left = parse_unary(true);
    while (skip_op("**")) {
      left = binary(ExprKind::kBinary, std::move(left), parse_unary(true), line);
      left->op = BinOp::kPow;
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    if (++nesting_ > kMaxExprDepth) fail("expression nested too deeply");
    const int line = cur().line;
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      const bool neg = next().text == "-";
      node = make(neg ? ExprKind::kNeg : ExprKind::kPos, line);
      node->node = parse_unary(false);
      node = finish(std::move(node));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    --nesting_;
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const int line = t.line;
    if (t.type == TokenType::kName) {
      ExprPtr e;
      if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False") {
        e = make(ExprKind::kConst, line);
        e->value = Value::boolean(t.text == "true" || t.text == "True");
      } else if (t.text == "none" || t.text == "None") {
        e = make(ExprKind::kConst, line);
        e->value = Value::none();
      } else {
        e = make(ExprKind::kName, line);
        e->name = t.text;
      }
      next();
      return e;
    }
    if (t.type == TokenType::kString) {
      std::string s = next().text;
      while (cur().type == TokenType::kString) s += next().text;
      auto e = make(ExprKind::kConst, line);
      e->value = Value::string(std::move(s));
      return e;
    }
    if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
      auto e = make(ExprKind::kConst, line);
      e->value = t.type == TokenType::kInteger ? Value::integer(t.integer) : Value::number(t.number);
      next();
      return e;
    }
    if (is_op("(")) {
      next();
      ExprPtr e = parse_tuple(false, true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) return parse_list();
    if (is_op("{")) return parse_dict();
    fail("unexpected " + describe(t));
  }

  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    if (cur().type == TokenType::kVarEnd || cur().type == TokenType::kBlockEnd || is_op(")")) return true;
    return cur().type == TokenType::kName &&
           std::find(extra_end.begin(), extra_end.end(), cur().text) != extra_end.end();
  }

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra_end,
                      bool explicit_parentheses) {
    const int line = cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parentheses) fail("expected an expression, got " + describe(cur()));
    }
    auto e = make(ExprKind::kTuple, line);
    e->args = std::move(items);
    return finish(std::move(e));
  }

  ExprPtr parse_list() {
    auto e = make(ExprKind::kList, next().line);
    while (!is_op("]")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op("]")) break;
      e->args.push_back(parse_expression(true));
    }
    expect_op("]");
    return finish(std::move(e));
  }

  ExprPtr parse_dict() {
    auto e = make(ExprKind::kDict, next().line);
    while (!is_op("}")) {
      if (!e->args.empty()) expect_op(",");
      if (is_op("}")) break;
      e->args.push_back(parse_expression(true));
      expect_op(":");
      e->args.push_back(parse_expression(true));
    }
    expect_op("}");
    return finish(std::move(e));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filter(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const Token& t = next();
    const int line = t.line;
    if (t.text == ".") {
      const Token& attr = next();
      if (attr.type == TokenType::kName) {
        auto e = make(ExprKind::kGetAttr, line);
        e->node = std::move(node);
        e->name = attr.text;
        return finish(std::move(e));
      }
      if (attr.type != TokenType::kInteger) fail("expected name or number", attr.line);
      auto index = make(ExprKind::kConst, line);
      index->value = Value::integer(attr.integer);
      auto e = make(ExprKind::kGetItem, line);
      e->node = std::move(node);
      e->args.push_back(std::move(index));
      return finish(std::move(e));
    }
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto e = make(ExprKind::kGetItem, line);
    e->node = std::move(node);
    if (args.size() == 1) {
      e->args.push_back(std::move(args[0]));
    } else {
      auto tuple = make(ExprKind::kTuple, line);
      tuple->args = std::move(args);
      e->args.push_back(finish(std::move(tuple)));
    }
    return finish(std::move(e));
  }

  ExprPtr parse_subscribed() {
    const int line = cur().line;
    std::vector<ExprPtr> parts;
    if (is_op(":")) {
      next();
      parts.push_back(nullptr);
    } else {
      ExprPtr node = parse_expression(true);
      if (!is_op(":")) return node;
      next();
      parts.push_back(std::move(node));
    }
    if (is_op(":")) {
      parts.push_back(nullptr);
    } else if (!is_op("]") && !is_op(",")) {
      parts.push_back(parse_expression(true));
    } else {
      parts.push_back(nullptr);
    }
    if (is_op(":")) {
      next();
      parts.push_back(!is_op("]") && !is_op(",") ? parse_expression(true) : nullptr);
    } else {
      parts.push_back(nullptr);
    }
    auto e = make(ExprKind::kSlice, line);
    e->args = std::move(parts);
    return finish(std::move(e));
  }

  void parse_call_args(Expr& e) {
    const int line = cur().line;
    expect_op("(");
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail("invalid syntax for function call expression", line);
    };
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;  // trailing comma
      }
      if (is_op("*")) {
        ensure(!e.dyn_args && !e.dyn_kwargs);
        next();
        e.dyn_args = parse_expression(true);
      } else if (is_op("**")) {
        ensure(!e.dyn_kwargs);
        next();
        e.dyn_kwargs = parse_expression(true);
      } else if (cur().type == TokenType::kName && look().type == TokenType::kOperator && look().text == "=") {
        ensure(!e.dyn_kwargs);
        std::string key = next().text;
        next();  // '='
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        ensure(!e.dyn_args && !e.dyn_kwargs && e.kwargs.empty());
        e.args.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr node) {
    auto e = make(ExprKind::kCall, cur().line);
    e->node = std::move(node);
    parse_call_args(*e);
    return finish(std::move(e));
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      auto e = make(ExprKind::kFilter, cur().line);
      e->name = expect_name();
      while (skip_op(".")) e->name += "." + expect_name();
      e->node = std::move(node);
      if (is_op("(")) parse_call_args(*e);
      node = finish(std::move(e));
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    auto e = make(ExprKind::kTest, next().line);
    e->negated = skip_name("not");
    e->name = expect_name();
    while (skip_op(".")) e->name += "." + expect_name();
    e->node = std::move(node);
    const Token& t = cur();
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((t.type == TokenType::kName || t.type == TokenType::kString || t.type == TokenType::kInteger ||
                t.type == TokenType::kFloat || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("you cannot chain multiple tests with is");
      e->args.push_back(parse_postfix(parse_primary()));
    }
    return finish(std::move(e));
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
  int nesting_ = 0;
  std::vector<OpenBlock> open_;
  std::vector<std::vector<std::string>> expected_;
};

}  // namespace

std::unique_ptr<Program> parse(std::string_view source) { return Parser(tokenize(source)).run(); }

}  // namespace moeinfer::jinja
