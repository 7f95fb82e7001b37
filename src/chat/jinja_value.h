// Values of the Jinja interpreter. Jinja is Python underneath, and chat templates are rendered by
// Python Jinja2 in Hugging Face transformers, so values follow Python's semantics: `{{ x }}`
// prints str(x), `==` is Python equality (1 == 1.0 == True), truthiness is Python's, dicts keep
// insertion order, strings are sequences of code points. Jinja adds one kind: Undefined (a
// missing variable, key or attribute), which prints as "", is falsy and iterates as empty, and
// raises only when an operation needs its value (like jinja2.Undefined, the default HF uses).
//
// Lists, dicts and objects are shared by reference, as in Python. Lists and dicts are never
// mutated after construction (HF renders in an immutable sandbox); namespaces are the only
// mutable objects.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace moeinfer::jinja {

// Every error the interpreter raises. line is the template line (1-based), 0 until known.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int line = 0) : std::runtime_error(message), line_(line) {}
  int line() const { return line_; }
  void set_line(int line) { line_ = line; }

 private:
  int line_;
};
// The template does not parse (Jinja's TemplateSyntaxError).
class SyntaxError : public Error {
 public:
  using Error::Error;
};
// A Python/Jinja error while rendering: TypeError, UndefinedError, ZeroDivisionError, limits.
class RenderError : public Error {
 public:
  using Error::Error;
};
// The template raised on purpose (HF's raise_exception(message)); what() is exactly its message.
class RaisedError : public Error {
 public:
  using Error::Error;
};

class Interp;
class Value;
struct List;
class Dict;
class Object;
using ListPtr = std::shared_ptr<List>;
using DictPtr = std::shared_ptr<Dict>;
using ObjectPtr = std::shared_ptr<Object>;

enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kObject };

class Value {
 public:
  Value() = default;  // Undefined
  static Value undefined(std::string message);  // message: what using it reports
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(std::string s);
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  static Value iterator(std::vector<Value> items);  // a Python generator: truthy, no len, used up once
  static Value dict(DictPtr d);
  static Value object(ObjectPtr o);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  bool is_integral() const { return kind_ == Kind::kBool || kind_ == Kind::kInt; }  // Python int (bool included)
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }  // list, tuple or iterator
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }  // bool or int
  double as_float() const;                                                    // any number
  const std::string& as_string() const { return s_; }
  List& as_list() const { return *l_; }
  Dict& as_dict() const { return *d_; }
  Object& as_object() const { return *o_; }
  const ListPtr& list_ptr() const { return l_; }
  const DictPtr& dict_ptr() const { return d_; }
  const ObjectPtr& object_ptr() const { return o_; }
  const std::string& undefined_message() const { return s_; }

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0.0;
  std::string s_;  // the string, or an Undefined's message
  ListPtr l_;
  DictPtr d_;
  ObjectPtr o_;
};

enum class SeqKind : uint8_t { kList, kTuple, kIterator };

struct List {
  std::vector<Value> items;
  SeqKind kind = SeqKind::kList;
  size_t consumed = 0;  // kIterator: how many items were already yielded
  int depth = 1;        // nesting height (bounded, see kMaxNesting)
};

// Lists, dicts and namespaces nest at most this deep; building a deeper value is a RenderError
// (a template could otherwise nest a value a million deep in a loop, and printing or even
// freeing it would overflow the stack).
constexpr int kMaxNesting = 500;

// An insertion-ordered dict. Keys must be hashable (not lists, dicts or objects other than
// callables); a key equal to an existing one (1 == 1.0 == True) replaces its value in place.
class Dict {
 public:
  size_t size() const { return items_.size(); }
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
  int depth() const { return depth_; }

 private:
  std::vector<std::pair<Value, Value>> items_;
  int depth_ = 1;
  std::unordered_map<std::string, size_t> string_index_;
};

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};

// Objects that are not plain data: namespaces, loop contexts, macros, functions, bound methods.
class Object {
 public:
  virtual ~Object() = default;
  virtual std::string type_name() const = 0;  // for messages: "namespace", "function", ...
  virtual std::string repr() const;           // str() and repr()
  virtual Value get_attr(const std::string& name) const;  // Undefined when absent
  virtual bool set_attr(const std::string& name, Value v);  // false: not assignable
  virtual bool callable() const { return false; }
  virtual Value call(Interp& in, CallArgs& args);
  virtual int depth() const { return 1; }  // nesting height of the values it holds, plus one
  virtual void release() {}                // drops what it holds (breaks reference cycles after a render)
};

int nesting(const Value& v);  // 0 for scalars

// Python semantics.
bool truthy(const Value& v);
std::string to_str(const Value& v);     // str(v); Undefined -> ""
std::string repr(const Value& v);       // repr(v)
std::string type_name(const Value& v);  // "str", "int", "dict", "NoneType", "Undefined", ...
bool equals(const Value& a, const Value& b);
bool less(const Value& a, const Value& b);              // a < b; RenderError when unorderable
bool contains(const Value& container, const Value& item);  // item in container
std::vector<Value> iterate(const Value& v);              // RenderError when not iterable
void check_hashable(const Value& key);                   // RenderError "unhashable type"
[[noreturn]] void fail_undefined(const Value& v);        // raises what using an Undefined raises
const Value& defined_or_fail(const Value& v);            // v, or fail_undefined(v)

// JSON data (messages, tools) as values: objects keep their key order; integers stay integers.
Value from_json(const nlohmann::ordered_json& j);

// Calls a function with a parameter list like Python's def f(a, b=...): binds positional then
// keyword arguments and rejects unknown or repeated ones (RenderError naming `func`).
class ArgBinder {
 public:
  ArgBinder(const std::string& func, const CallArgs& args, std::vector<std::string> names);
  bool has(size_t i) const { return set_[i]; }
  const Value& get(size_t i) const { return values_[i]; }  // Undefined when not given
  Value get_or(size_t i, Value fallback) const { return set_[i] ? values_[i] : std::move(fallback); }

 private:
  std::vector<Value> values_;
  std::vector<bool> set_;
};

}  // namespace moeinfer::jinja
