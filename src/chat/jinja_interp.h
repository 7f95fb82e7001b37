// The Jinja evaluator: renders a Program (jinja_parser.h) with a scope of variables.
//
// Scoping follows Jinja: `if` bodies share the enclosing scope (a `set` inside an `if` is visible
// after it); every `for` iteration, macro call, `with`, block `set` and `call` body gets a child
// scope (a `set` inside a `for` is gone after the iteration, hence namespace()). Lookups walk the
// chain outwards; a name found nowhere is Undefined. Errors are jinja::Error subclasses carrying
// the template line: RenderError for Python/Jinja errors (TypeError, UndefinedError, ...) and
// RaisedError for the template's own raise_exception().
//
// The interpreter is bounded, so a hostile template fails cleanly: a budget of steps (statements,
// loop iterations, calls), a cap on the size of any string or list it builds, and a cap on nested
// macro calls and recursive loops.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace moeinfer::jinja {

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent) : parent_(std::move(parent)) {}
  const Value* lookup(const std::string& name) const;
  void set(const std::string& name, Value v) { vars_[name] = std::move(v); }

 private:
  std::shared_ptr<Scope> parent_;
  std::unordered_map<std::string, Value> vars_;
};
using ScopePtr = std::shared_ptr<Scope>;

struct Limits {
  int64_t max_steps = 20'000'000;  // statements + loop iterations + calls
  size_t max_size = 256u << 20;    // bytes of one string / output, or items of one list
  int max_call_depth = 100;        // nested macro calls and recursive loops
};

class Interp {
 public:
  explicit Interp(Limits limits = {}) : limits_(limits) {}

  // Renders the program in a child scope of `globals`.
  std::string render(const Program& program, const ScopePtr& globals);

  Value eval(const Expr& e, const ScopePtr& scope);
  Value call(const Value& callee, CallArgs& args);
  Value filter(const std::string& name, const Value& input, CallArgs& args);
  bool test(const std::string& name, const Value& input, CallArgs& args);

  enum class Flow { kNormal, kBreak, kContinue };
  Flow exec(const Body& body, const ScopePtr& scope, std::string& out);
  // Renders a macro or `caller` body: params bound from args in a child scope of closure.
  Value call_macro(const Stmt& def, const ScopePtr& closure, const std::string& name, CallArgs& args);
  // Runs a for statement's body over `iterable` (depth0 > 0 for a recursive `loop(...)` call).
  Flow run_loop(const Stmt& s, const ScopePtr& scope, const Value& iterable, int depth0, std::string& out);

  // Objects that can hold themselves (namespaces: {% set ns.me = ns %}) are released when the
  // render ends, so reference cycles never outlive it.
  void track(const ObjectPtr& o) { tracked_.push_back(o); }
  const ScopePtr& root() const { return root_; }  // the template's top-level scope

  void step();                                       // RenderError when the step budget is spent
  void check_size(size_t n) const;                   // RenderError when n exceeds max_size
  const Limits& limits() const { return limits_; }

 private:
  Value eval_inner(const Expr& e, const ScopePtr& scope);
  Value eval_call(const Expr& e, const ScopePtr& scope, const Value* caller);
  Value eval_filter(const Expr& e, const ScopePtr& scope, const Value* input);
  Flow exec_one(const Stmt& s, const ScopePtr& scope, std::string& out);
  void assign(const Expr& target, const Value& v, Scope& scope);
  void append(std::string& out, std::string_view s) const;

  Limits limits_;
  ScopePtr root_;
  std::vector<std::weak_ptr<Object>> tracked_;
  int64_t steps_ = 0;
  int call_depth_ = 0;
  friend class CallDepthGuard;
};

// ---- built-ins (jinja_filters*.cc, jinja_tests.cc, jinja_methods.cc, jinja_globals.cc) ----------

using FilterFn = Value (*)(Interp&, const Value&, CallArgs&);
using TestFn = bool (*)(Interp&, const Value&, CallArgs&);
FilterFn find_filter(std::string_view name);  // nullptr when unknown
TestFn find_test(std::string_view name);      // nullptr when unknown

using NativeFn = std::function<Value(Interp&, CallArgs&)>;
Value make_function(std::string name, NativeFn fn);
// range, dict, namespace, joiner, cycler: the globals Jinja always has.
void add_default_globals(Scope& globals);

// Python methods of str, dict, list and tuple values (`s.strip()`, `d.items()`): a bound method,
// or for mutating methods (list.append, dict.update: the sandbox forbids them) an Undefined that
// raises when called. *found is false, and the result meaningless, when self has no such method.
Value get_method(const Value& self, const std::string& name, bool* found);

// Attribute and item access with Jinja's rules: `a.b` tries the attribute (a method) then the
// item; `a[b]` the item then the attribute; a miss is Undefined; any access on Undefined raises.
Value get_attr(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

// Python operators (jinja_ops.cc).
Value binary_op(BinOp op, const Value& a, const Value& b, const Interp& in);
Value negate(const Value& v, bool minus);
std::string percent_format(const std::string& fmt, const Value& args);  // str % args

// json.dumps(v, ensure_ascii, indent, separators, sort_keys) as HF's tojson filter calls it.
// indent: None, an int (spaces) or a string. separators: None or a 2-item sequence of strings.
std::string to_json(const Value& v, bool ensure_ascii, const Value& indent, const Value& separators, bool sort_keys);

}  // namespace moeinfer::jinja
