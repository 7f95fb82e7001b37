// Internal to the Jinja parser (jinja_parser.h): the recursive-descent Parser, its statement rules
// in jinja_parser.cc and its expression rules in jinja_parser_expr.cc, each named after the
// jinja2/parser.py method it mirrors.
#pragma once
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace moeinfer::jinja::parser_detail {

constexpr int kMaxExprDepth = 300;   // expression tree height
constexpr int kMaxBlockDepth = 200;  // nested statements
constexpr int kMaxElifs = 5000;      // elif branches of one if

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
  ExprPtr finish(ExprPtr e) const;

  // ---- statements ----
  Body subparse(const std::vector<std::string>& end_tokens);

  static std::string quote_list(const std::vector<std::string>& names);

  std::string looking_for() const;

  Body parse_statements(const std::vector<std::string>& end_tokens, bool drop_needle);

  Body parse_statement();

  StmtPtr parse_for();

  StmtPtr parse_if();

  StmtPtr parse_set();

  void parse_signature(Stmt& s);

  StmtPtr parse_macro();

  StmtPtr parse_call_block();

  StmtPtr parse_filter_block();

  StmtPtr parse_with();

  static bool can_assign(const Expr& e);

  ExprPtr parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra_end,
                              bool with_namespace);

  // ---- expressions ----
  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr();

  ExprPtr binary(ExprKind kind, ExprPtr left, ExprPtr right, int line);

  ExprPtr parse_or();

  ExprPtr parse_and();

  ExprPtr parse_not();

  ExprPtr parse_compare();

  ExprPtr parse_math1();

  ExprPtr parse_concat();

  ExprPtr parse_math2();

  ExprPtr parse_pow();

  ExprPtr parse_unary(bool with_filter);

  ExprPtr parse_primary();

  bool is_tuple_end(const std::vector<std::string>& extra_end) const;

  ExprPtr parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra_end,
                      bool explicit_parentheses);

  ExprPtr parse_list();

  ExprPtr parse_dict();

  ExprPtr parse_postfix(ExprPtr node);

  ExprPtr parse_filter_expr(ExprPtr node);

  ExprPtr parse_subscript(ExprPtr node);

  ExprPtr parse_subscribed();

  void parse_call_args(Expr& e);

  ExprPtr parse_call(ExprPtr node);

  ExprPtr parse_filter(ExprPtr node, bool start_inline);

  ExprPtr parse_test(ExprPtr node);

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
  int nesting_ = 0;
  std::vector<OpenBlock> open_;
  std::vector<std::vector<std::string>> expected_;
};

}  // namespace moeinfer::jinja::parser_detail
