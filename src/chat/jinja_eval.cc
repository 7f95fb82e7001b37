// Expression evaluation (Interp::eval) and the call / filter / test dispatch.
#include "chat/jinja_interp.h"

namespace moeinfer::jinja {

const Value* Scope::lookup(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent_.get()) {
    auto it = s->vars_.find(name);
    if (it != s->vars_.end()) return &it->second;
  }
  return nullptr;
}

void Interp::step() {
  if (++steps_ > limits_.max_steps) throw RenderError("template exceeded its step budget (an endless or huge loop?)");
}

void Interp::check_size(size_t n) const {
  if (n > limits_.max_size) throw RenderError("template built a value larger than the limit");
}

Value Interp::eval(const Expr& e, const ScopePtr& scope) {
  try {
    return eval_inner(e, scope);
  } catch (Error& err) {
    if (err.line() == 0) err.set_line(e.line);
    throw;
  }
}

// Jinja folds expressions made only of literals at compile time; a fold that fails falls back to
// run time. That only shows for slices: folded ones go through environment.getitem (a failure is
// Undefined) while run-time slices are plain Python subscripts (a failure raises).
static bool is_literal(const Expr& e) {
  if (e.kind == ExprKind::kConst) return true;
  if (e.kind == ExprKind::kNeg || e.kind == ExprKind::kPos) return is_literal(*e.node);
  if (e.kind != ExprKind::kList && e.kind != ExprKind::kTuple && e.kind != ExprKind::kDict) return false;
  for (const auto& a : e.args)
    if (!is_literal(*a)) return false;
  return true;
}

static bool compare(CmpOp op, const Value& a, const Value& b) {
  switch (op) {
    case CmpOp::kEq:
      return equals(a, b);
    case CmpOp::kNe:
      return !equals(a, b);
    case CmpOp::kLt:
      return less(a, b);
    case CmpOp::kGt:
      return less(b, a);
    case CmpOp::kLe:
      return less(a, b) || equals(a, b);
    case CmpOp::kGe:
      return less(b, a) || equals(a, b);
    case CmpOp::kIn:
      return contains(b, a);
    case CmpOp::kNotIn:
      return !contains(b, a);
  }
  return false;
}

Value Interp::eval_inner(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::kConst:
      return e.value;
    case ExprKind::kName: {
      const Value* v = scope->lookup(e.name);
      return v ? *v : Value::undefined("'" + e.name + "' is undefined");
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a, scope));
      return e.kind == ExprKind::kList ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::kDict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value key = eval(*e.args[i], scope);
        d->set(std::move(key), eval(*e.args[i + 1], scope));
      }
      return Value::dict(std::move(d));
    }
    case ExprKind::kGetAttr:
      return get_attr(eval(*e.node, scope), e.name);
    case ExprKind::kGetItem: {
      Value obj = eval(*e.node, scope);
      const Expr& index = *e.args[0];
      if (index.kind == ExprKind::kSlice) {
        Value parts[3];
        bool literal = is_literal(*e.node);
        for (int k = 0; k < 3; ++k) {
          parts[k] = index.args[k] ? eval(*index.args[k], scope) : Value::none();
          literal = literal && (!index.args[k] || is_literal(*index.args[k]));
        }
        if (literal) {
          try {
            return slice(obj, parts[0], parts[1], parts[2]);
          } catch (const RenderError&) {
            return Value::undefined("'" + type_name(obj) + " object' has no element slice");
          }
        }
        return slice(obj, parts[0], parts[1], parts[2]);
      }
      return get_item(obj, eval(index, scope));
    }
    case ExprKind::kSlice:
      throw RenderError("a slice is only valid inside []");
    case ExprKind::kCall:
      return eval_call(e, scope, nullptr);
    case ExprKind::kFilter:
      return eval_filter(e, scope, nullptr);
    case ExprKind::kTest: {
      Value input = eval(*e.node, scope);
      CallArgs args;
      for (const auto& a : e.args) args.pos.push_back(eval(*a, scope));
      for (const auto& [k, v] : e.kwargs) args.kw.emplace_back(k, eval(*v, scope));
      const bool r = test(e.name, input, args);
      return Value::boolean(e.negated ? !r : r);
    }
    case ExprKind::kNot:
      return Value::boolean(!truthy(eval(*e.node, scope)));
    case ExprKind::kNeg:
    case ExprKind::kPos:
      return negate(eval(*e.node, scope), e.kind == ExprKind::kNeg);
    case ExprKind::kBinary: {
      Value a = eval(*e.args[0], scope);
      Value b = eval(*e.args[1], scope);
      return binary_op(e.op, a, b, *this);
    }
    case ExprKind::kConcat: {
      std::string s;
      for (const auto& a : e.args) {
        s += to_str(eval(*a, scope));
        check_size(s.size());
      }
      return Value::string(std::move(s));
    }
    case ExprKind::kAnd: {
      Value a = eval(*e.args[0], scope);
      return truthy(a) ? eval(*e.args[1], scope) : a;
    }
    case ExprKind::kOr: {
      Value a = eval(*e.args[0], scope);
      return truthy(a) ? a : eval(*e.args[1], scope);
    }
    case ExprKind::kCompare: {
      Value left = eval(*e.args[0], scope);
      for (size_t i = 0; i < e.cmp.size(); ++i) {
        Value right = eval(*e.args[i + 1], scope);
        if (!compare(e.cmp[i], left, right)) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::kCond: {
      if (truthy(eval(*e.args[0], scope))) return eval(*e.args[1], scope);
      if (e.args[2]) return eval(*e.args[2], scope);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    }
  }
  return Value();
}

// Positional, keyword, *args and **kwargs arguments of a call, filter or test.
static void collect_args(Interp& in, const Expr& e, const ScopePtr& scope, CallArgs& args) {
  for (const auto& a : e.args) args.pos.push_back(in.eval(*a, scope));
  for (const auto& [k, v] : e.kwargs) args.kw.emplace_back(k, in.eval(*v, scope));
  if (e.dyn_args) {
    for (Value& v : iterate(in.eval(*e.dyn_args, scope))) args.pos.push_back(std::move(v));
  }
  if (e.dyn_kwargs) {
    Value d = in.eval(*e.dyn_kwargs, scope);
    if (!d.is_dict()) throw RenderError("argument after ** must be a mapping, not " + type_name(d));
    for (const auto& [k, v] : d.as_dict().items()) {
      if (!k.is_string()) throw RenderError("keywords must be strings");
      args.kw.emplace_back(k.as_string(), v);
    }
  }
}

Value Interp::eval_call(const Expr& e, const ScopePtr& scope, const Value* caller) {
  Value callee = eval(*e.node, scope);
  CallArgs args;
  collect_args(*this, e, scope, args);
  if (caller) args.kw.emplace_back("caller", *caller);
  return call(callee, args);
}

Value Interp::eval_filter(const Expr& e, const ScopePtr& scope, const Value* input) {
  Value value;
  if (e.node) {
    value = e.node->kind == ExprKind::kFilter ? eval_filter(*e.node, scope, input) : eval(*e.node, scope);
  } else if (input) {
    value = *input;
  }
  CallArgs args;
  collect_args(*this, e, scope, args);
  try {
    return filter(e.name, value, args);
  } catch (Error& err) {
    if (err.line() == 0) err.set_line(e.line);
    throw;
  }
}

Value Interp::call(const Value& callee, CallArgs& args) {
  step();
  if (callee.is_object() && callee.as_object().callable()) return callee.as_object().call(*this, args);
  if (callee.is_undefined()) fail_undefined(callee);
  throw RenderError("'" + type_name(callee) + "' object is not callable");
}

Value Interp::filter(const std::string& name, const Value& input, CallArgs& args) {
  FilterFn f = find_filter(name);
  if (!f) throw RenderError("no filter named '" + name + "'");
  step();
  return f(*this, input, args);
}

bool Interp::test(const std::string& name, const Value& input, CallArgs& args) {
  TestFn t = find_test(name);
  if (!t) throw RenderError("no test named '" + name + "'");
  return t(*this, input, args);
}

}  // namespace moeinfer::jinja
