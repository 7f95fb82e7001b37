// Statement execution: output, if, for (with Jinja's `loop` object), set, macro/call, filter and
// with blocks, break/continue.
#include <algorithm>

#include "chat/jinja_interp.h"
#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

class CallDepthGuard {
 public:
  explicit CallDepthGuard(Interp& in) : in_(in) {
    if (++in_.call_depth_ > in_.limits_.max_call_depth) {
      --in_.call_depth_;
      throw RenderError("maximum recursion depth exceeded in macro calls or recursive loops");
    }
  }
  ~CallDepthGuard() { --in_.call_depth_; }

 private:
  Interp& in_;
};

namespace {

// A macro (or the `caller` of a {% call %} block): a template body with parameters, closing over
// the scope it was defined in. Calling it renders the body and returns the text. The closure is
// weak because that scope holds the macro; should the scope be gone (a macro carried out of a loop
// in a namespace), the template's top-level scope stands in.
class MacroObject : public Object {
 public:
  MacroObject(const Stmt& def, const ScopePtr& closure, std::string name)
      : def_(def), closure_(closure), name_(std::move(name)) {}
  std::string type_name() const override { return "Macro"; }
  std::string repr() const override { return "<Macro '" + name_ + "'>"; }
  bool callable() const override { return true; }
  Value call(Interp& in, CallArgs& args) override {
    ScopePtr closure = closure_.lock();
    return in.call_macro(def_, closure ? closure : in.root(), name_, args);
  }
  Value get_attr(const std::string& name) const override {
    if (name == "name") return Value::string(name_);
    if (name == "arguments") {
      std::vector<Value> params;
      for (const auto& p : def_.params) params.push_back(Value::string(p));
      return Value::tuple(std::move(params));
    }
    return Object::get_attr(name);
  }

 private:
  const Stmt& def_;
  std::weak_ptr<Scope> closure_;
  std::string name_;
};

// Jinja's LoopContext: loop.index, loop.first, loop.cycle(...), ...; callable in recursive loops.
class LoopObject : public Object, public std::enable_shared_from_this<LoopObject> {
 public:
  LoopObject(std::vector<Value> items, int depth0, const Stmt& stmt, const ScopePtr& outer)
      : items_(std::move(items)), depth0_(depth0), stmt_(stmt), outer_(outer) {}
  void set_index(size_t i) { index_ = i; }
  const std::vector<Value>& items() const { return items_; }
  std::string type_name() const override { return "LoopContext"; }
  std::string repr() const override {
    return "<LoopContext " + std::to_string(index_ + 1) + "/" + std::to_string(items_.size()) + ">";
  }
  bool callable() const override { return stmt_.recursive; }
  Value call(Interp& in, CallArgs& args) override {
    if (!stmt_.recursive) return Object::call(in, args);
    if (args.pos.size() != 1 || !args.kw.empty()) throw RenderError("loop() takes exactly one argument");
    ScopePtr outer = outer_.lock();
    if (!outer) throw RenderError("loop() called after its loop ended");
    std::string out;
    in.run_loop(stmt_, outer, args.pos[0], depth0_ + 1, out);
    return Value::string(std::move(out));
  }

  Value get_attr(const std::string& name) const override {
    const int64_t n = static_cast<int64_t>(items_.size());
    const int64_t i = static_cast<int64_t>(index_);
    if (name == "index0") return Value::integer(i);
    if (name == "index") return Value::integer(i + 1);
    if (name == "revindex0") return Value::integer(n - i - 1);
    if (name == "revindex") return Value::integer(n - i);
    if (name == "first") return Value::boolean(i == 0);
    if (name == "last") return Value::boolean(i == n - 1);
    if (name == "length") return Value::integer(n);
    if (name == "depth0") return Value::integer(depth0_);
    if (name == "depth") return Value::integer(depth0_ + 1);
    if (name == "previtem")
      return i > 0 ? items_[index_ - 1] : Value::undefined("there is no previous item");
    if (name == "nextitem")
      return i + 1 < n ? items_[index_ + 1] : Value::undefined("there is no next item");
    if (name == "cycle") {
      std::weak_ptr<const LoopObject> self = shared_from_this();
      return make_function("cycle", [self](Interp&, CallArgs& args) -> Value {
        auto loop = self.lock();
        if (args.pos.empty()) throw RenderError("no items for cycling given");
        return loop ? args.pos[loop->index_ % args.pos.size()] : Value();
      });
    }
    if (name == "changed") {
      std::weak_ptr<const LoopObject> self = shared_from_this();
      return make_function("changed", [self](Interp&, CallArgs& args) -> Value {
        auto loop = std::const_pointer_cast<LoopObject>(self.lock());
        if (!loop) return Value::boolean(false);
        Value now = Value::list(args.pos);
        if (loop->has_last_ && equals(loop->last_, now)) return Value::boolean(false);
        loop->last_ = now;
        loop->has_last_ = true;
        return Value::boolean(true);
      });
    }
    return Object::get_attr(name);
  }

 private:
  std::vector<Value> items_;
  size_t index_ = 0;
  int depth0_;
  const Stmt& stmt_;
  std::weak_ptr<Scope> outer_;  // weak: that scope may come to hold the loop object
  Value last_;
  bool has_last_ = false;
};

}  // namespace

std::string Interp::render(const Program& program, const ScopePtr& globals) {
  struct ReleaseTracked {
    Interp& in;
    ~ReleaseTracked() {
      for (const auto& w : in.tracked_)
        if (ObjectPtr o = w.lock()) o->release();
      in.tracked_.clear();
      in.root_.reset();
    }
  } release{*this};
  root_ = std::make_shared<Scope>(globals);
  std::string out;
  exec(program.body, root_, out);
  return out;
}

void Interp::append(std::string& out, std::string_view s) const {
  out += s;
  check_size(out.size());
}

Interp::Flow Interp::exec(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = exec_one(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

void Interp::assign(const Expr& target, const Value& v, Scope& scope) {
  if (target.kind == ExprKind::kName) {
    scope.set(target.name, v);
    return;
  }
  // A tuple target unpacks any iterable, like Python.
  std::vector<Value> items = iterate(v);
  const size_t want = target.args.size();
  if (items.size() < want)
    throw RenderError("not enough values to unpack (expected " + std::to_string(want) + ", got " +
                      std::to_string(items.size()) + ")");
  if (items.size() > want) throw RenderError("too many values to unpack (expected " + std::to_string(want) + ")");
  for (size_t i = 0; i < want; ++i) assign(*target.args[i], items[i], scope);
}

Value Interp::call_macro(const Stmt& def, const ScopePtr& closure, const std::string& name, CallArgs& args) {
  CallDepthGuard guard(*this);
  auto scope = std::make_shared<Scope>(closure);
  const size_t np = def.params.size();
  const size_t first_default = np - def.defaults.size();
  std::vector<bool> bound(np, false);
  std::vector<Value> varargs;
  for (size_t i = 0; i < args.pos.size(); ++i) {
    if (i < np) {
      scope->set(def.params[i], args.pos[i]);
      bound[i] = true;
    } else if (def.catch_varargs) {
      varargs.push_back(args.pos[i]);
    } else {
      throw RenderError("macro '" + name + "' takes not more than " + std::to_string(np) + " argument(s)");
    }
  }
  auto kwargs = std::make_shared<Dict>();
  for (const auto& [key, value] : args.kw) {
    auto it = std::find(def.params.begin(), def.params.end(), key);
    if (it != def.params.end()) {
      const size_t i = static_cast<size_t>(it - def.params.begin());
      if (bound[i]) throw RenderError("macro '" + name + "' got multiple values for argument '" + key + "'");
      scope->set(key, value);
      bound[i] = true;
    } else if (key == "caller") {
      scope->set("caller", value);
    } else if (def.catch_kwargs) {
      kwargs->set(Value::string(key), value);
    } else {
      throw RenderError("macro '" + name + "' takes no keyword argument '" + key + "'");
    }
  }
  for (size_t i = 0; i < np; ++i) {
    if (bound[i]) continue;
    if (i >= first_default) {
      scope->set(def.params[i], eval(*def.defaults[i - first_default], scope));
    } else {
      scope->set(def.params[i], Value::undefined("parameter '" + def.params[i] + "' was not provided"));
    }
  }
  scope->set("varargs", Value::tuple(std::move(varargs)));
  scope->set("kwargs", Value::dict(std::move(kwargs)));
  std::string out;
  exec(def.body, scope, out);
  return Value::string(std::move(out));
}

Interp::Flow Interp::run_loop(const Stmt& s, const ScopePtr& scope, const Value& iterable, int depth0,
                              std::string& out) {
  std::unique_ptr<CallDepthGuard> guard;
  if (depth0 > 0) guard = std::make_unique<CallDepthGuard>(*this);
  std::vector<Value> items = iterate(iterable);
  if (s.cond) {
    std::vector<Value> kept;
    for (Value& item : items) {
      step();
      auto fs = std::make_shared<Scope>(scope);
      assign(*s.target, item, *fs);
      if (truthy(eval(*s.cond, fs))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const size_t n = items.size();
  auto loop = std::make_shared<LoopObject>(std::move(items), depth0, s, scope);
  const Value loop_value = Value::object(loop);
  // Jinja runs `else` unless some iteration reached the end of the body: a `break` or `continue`
  // skips the reset of its "no iteration" flag, so a loop that always continues runs `else` too.
  bool completed = false;
  for (size_t i = 0; i < n; ++i) {
    step();
    auto iter_scope = std::make_shared<Scope>(scope);
    assign(*s.target, loop->items()[i], *iter_scope);
    loop->set_index(i);
    iter_scope->set("loop", loop_value);
    const Flow f = exec(s.body, iter_scope, out);
    if (f == Flow::kBreak) break;
    if (f == Flow::kNormal) completed = true;
  }
  if (!completed && !s.else_body.empty()) return exec(s.else_body, std::make_shared<Scope>(scope), out);
  return Flow::kNormal;
}

Interp::Flow Interp::exec_one(const Stmt& s, const ScopePtr& scope, std::string& out) {
  step();
  try {
    switch (s.kind) {
      case StmtKind::kText:
        append(out, s.text);
        return Flow::kNormal;
      case StmtKind::kPrint:
        append(out, to_str(eval(*s.expr, scope)));
        return Flow::kNormal;
      case StmtKind::kIf: {
        // elif chains are nested kIf statements; walk them without recursing.
        const Stmt* branch = &s;
        while (true) {
          if (truthy(eval(*branch->expr, scope))) return exec(branch->body, scope, out);
          const Body& rest = branch->else_body;
          if (rest.size() == 1 && rest[0]->kind == StmtKind::kIf) {
            branch = rest[0].get();
            continue;
          }
          return exec(rest, scope, out);
        }
      }
      case StmtKind::kFor:
        return run_loop(s, scope, eval(*s.expr, scope), 0, out);
      case StmtKind::kSet: {
        Value v = eval(*s.expr, scope);
        if (s.target->kind == ExprKind::kGetAttr) {
          const Value* ns = scope->lookup(s.target->node->name);
          if (!ns || !ns->is_object() || !ns->as_object().set_attr(s.target->name, v))
            throw RenderError("cannot assign attribute on non-namespace object");
        } else {
          assign(*s.target, v, *scope);
        }
        return Flow::kNormal;
      }
      case StmtKind::kSetBlock: {
        std::string text;
        exec(s.body, std::make_shared<Scope>(scope), text);
        Value v = Value::string(std::move(text));
        if (s.expr) v = eval_filter(*s.expr, scope, &v);
        if (s.target->kind == ExprKind::kGetAttr) {
          const Value* ns = scope->lookup(s.target->node->name);
          if (!ns || !ns->is_object() || !ns->as_object().set_attr(s.target->name, v))
            throw RenderError("cannot assign attribute on non-namespace object");
        } else {
          assign(*s.target, v, *scope);
        }
        return Flow::kNormal;
      }
      case StmtKind::kMacro:
        scope->set(s.text, Value::object(std::make_shared<MacroObject>(s, scope, s.text)));
        return Flow::kNormal;
      case StmtKind::kCallBlock: {
        const Value caller = Value::object(std::make_shared<MacroObject>(s, scope, "caller"));
        append(out, to_str(eval_call(*s.expr, scope, &caller)));
        return Flow::kNormal;
      }
      case StmtKind::kFilterBlock: {
        std::string text;
        exec(s.body, std::make_shared<Scope>(scope), text);
        const Value v = Value::string(std::move(text));
        append(out, to_str(eval_filter(*s.expr, scope, &v)));
        return Flow::kNormal;
      }
      case StmtKind::kWith: {
        auto inner = std::make_shared<Scope>(scope);
        for (size_t i = 0; i < s.targets.size(); ++i) assign(*s.targets[i], eval(*s.values[i], scope), *inner);
        return exec(s.body, inner, out);
      }
      case StmtKind::kBreak:
        return Flow::kBreak;
      case StmtKind::kContinue:
        return Flow::kContinue;
      case StmtKind::kScope:
        return exec(s.body, std::make_shared<Scope>(scope), out);
    }
  } catch (Error& err) {
    if (err.line() == 0) err.set_line(s.line);
    throw;
  }
  return Flow::kNormal;
}

}  // namespace moeinfer::jinja
