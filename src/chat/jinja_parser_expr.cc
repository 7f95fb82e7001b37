// Jinja parser, expressions, with jinja2/parser.py's precedence from loosest to tightest:
// conditional (a if b else c), or, and, not, comparisons (chained, in, not in), + -, ~, * / // %,
// **, unary - +, then primary with postfix subscripts / calls and the filter / `is` test chain.
#include "chat/jinja_parser_impl.h"

namespace moeinfer::jinja::parser_detail {

ExprPtr Parser::parse_condexpr() {
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

ExprPtr Parser::binary(ExprKind kind, ExprPtr left, ExprPtr right, int line) {
  auto e = make(kind, line);
  e->args.push_back(std::move(left));
  e->args.push_back(std::move(right));
  return finish(std::move(e));
}

ExprPtr Parser::parse_or() {
  const int line = cur().line;
  ExprPtr left = parse_and();
  while (skip_name("or")) left = binary(ExprKind::kOr, std::move(left), parse_and(), line);
  return left;
}

ExprPtr Parser::parse_and() {
  const int line = cur().line;
  ExprPtr left = parse_not();
  while (skip_name("and")) left = binary(ExprKind::kAnd, std::move(left), parse_not(), line);
  return left;
}

ExprPtr Parser::parse_not() {
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

ExprPtr Parser::parse_compare() {
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

ExprPtr Parser::parse_math1() {
  const int line = cur().line;
  ExprPtr left = parse_concat();
  while (is_op("+") || is_op("-")) {
    const BinOp op = next().text == "+" ? BinOp::kAdd : BinOp::kSub;
    left = binary(ExprKind::kBinary, std::move(left), parse_concat(), line);
    left->op = op;
  }
  return left;
}

ExprPtr Parser::parse_concat() {
  const int line = cur().line;
  ExprPtr first = parse_math2();
  if (!is_op("~")) return first;
  auto e = make(ExprKind::kConcat, line);
  e->args.push_back(std::move(first));
  while (skip_op("~")) e->args.push_back(parse_math2());
  return finish(std::move(e));
}

ExprPtr Parser::parse_math2() {
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

ExprPtr Parser::parse_pow() {
  const int line = cur().line;
  ExprPtr left = parse_unary(true);
  while (skip_op("**")) {
    left = binary(ExprKind::kBinary, std::move(left), parse_unary(true), line);
    left->op = BinOp::kPow;
  }
  return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
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

ExprPtr Parser::parse_primary() {
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

bool Parser::is_tuple_end(const std::vector<std::string>& extra_end) const {
  if (cur().type == TokenType::kVarEnd || cur().type == TokenType::kBlockEnd || is_op(")")) return true;
  return cur().type == TokenType::kName && std::find(extra_end.begin(), extra_end.end(), cur().text) != extra_end.end();
}

ExprPtr Parser::parse_tuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra_end,
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

ExprPtr Parser::parse_list() {
  auto e = make(ExprKind::kList, next().line);
  while (!is_op("]")) {
    if (!e->args.empty()) expect_op(",");
    if (is_op("]")) break;
    e->args.push_back(parse_expression(true));
  }
  expect_op("]");
  return finish(std::move(e));
}

ExprPtr Parser::parse_dict() {
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

ExprPtr Parser::parse_postfix(ExprPtr node) {
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

ExprPtr Parser::parse_filter_expr(ExprPtr node) {
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

ExprPtr Parser::parse_subscript(ExprPtr node) {
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

ExprPtr Parser::parse_subscribed() {
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

void Parser::parse_call_args(Expr& e) {
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

ExprPtr Parser::parse_call(ExprPtr node) {
  auto e = make(ExprKind::kCall, cur().line);
  e->node = std::move(node);
  parse_call_args(*e);
  return finish(std::move(e));
}

ExprPtr Parser::parse_filter(ExprPtr node, bool start_inline) {
  while (is_op("|") || start_inline) {
    if (!start_inline) next();
    start_inline = false;
    auto e = make(ExprKind::kFilter, cur().line);
    e->name = expect_name();
    while (skip_op(".")) {
      e->name += '.';
      e->name += expect_name();
    }
    e->node = std::move(node);
    if (is_op("(")) parse_call_args(*e);
    node = finish(std::move(e));
  }
  return node;
}

ExprPtr Parser::parse_test(ExprPtr node) {
  auto e = make(ExprKind::kTest, next().line);
  e->negated = skip_name("not");
  e->name = expect_name();
  while (skip_op(".")) {
    e->name += '.';
    e->name += expect_name();
  }
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

}  // namespace moeinfer::jinja::parser_detail
