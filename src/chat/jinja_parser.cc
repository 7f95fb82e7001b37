// Jinja parser, statements: the template body, tags (if, for, set, macro, call, filter, with,
// print, break/continue, generation) and assignment targets. Expressions: jinja_parser_expr.cc.
#include "chat/jinja_parser.h"

#include "chat/jinja_parser_impl.h"

namespace moeinfer::jinja {

namespace parser_detail {

namespace {

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

}  // namespace

ExprPtr Parser::finish(ExprPtr e) const {
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

Body Parser::subparse(const std::vector<std::string>& end_tokens) {
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

std::string Parser::quote_list(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) s += i + 1 == names.size() ? " or " : ", ";
    s += "'" + names[i] + "'";
  }
  return s;
}

std::string Parser::looking_for() const {
  if (expected_.empty()) return "";
  std::string s = " Jinja was looking for the following tags: " + quote_list(expected_.back()) + ".";
  if (!open_.empty())
    s += " The innermost block that needs to be closed is '" + open_.back().name + "' (line " +
         std::to_string(open_.back().line) + ").";
  return s;
}

Body Parser::parse_statements(const std::vector<std::string>& end_tokens, bool drop_needle) {
  skip_op(":");
  expect(TokenType::kBlockEnd, "end of statement block");
  expected_.push_back(end_tokens);
  Body body = subparse(end_tokens);
  if (cur().type == TokenType::kEof) fail("unexpected end of template." + looking_for());
  expected_.pop_back();
  if (drop_needle) next();
  return body;
}

Body Parser::parse_statement() {
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

StmtPtr Parser::parse_for() {
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

StmtPtr Parser::parse_if() {
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

StmtPtr Parser::parse_set() {
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

void Parser::parse_signature(Stmt& s) {
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

StmtPtr Parser::parse_macro() {
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

StmtPtr Parser::parse_call_block() {
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

StmtPtr Parser::parse_filter_block() {
  auto s = std::make_unique<Stmt>();
  s->kind = StmtKind::kFilterBlock;
  s->line = next().line;
  s->expr = parse_filter(nullptr, true);
  s->body = parse_statements({"endfilter"}, true);
  return s;
}

StmtPtr Parser::parse_with() {
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

bool Parser::can_assign(const Expr& e) {
  if (e.kind == ExprKind::kName) return true;
  if (e.kind == ExprKind::kTuple) {
    for (const auto& a : e.args)
      if (!can_assign(*a)) return false;
    return true;
  }
  return false;
}

ExprPtr Parser::parse_assign_target(bool with_tuple, bool name_only, const std::vector<std::string>& extra_end,
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

}  // namespace parser_detail

std::unique_ptr<Program> parse(std::string_view source) { return parser_detail::Parser(tokenize(source)).run(); }

}  // namespace moeinfer::jinja
