// Jinja's built-in tests (`x is defined`, `x is equalto 3`, ...), as in jinja2/tests.py. Python
// types decide: `true is number` (bool is an int), `true is integer` is false (Jinja excludes
// bools), `{} is sequence` and `undefined is iterable` are true.
#include "chat/jinja_builtins.h"
#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

namespace {

bool t_defined(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("defined", args, {});
  return !v.is_undefined();
}
bool t_undefined(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("undefined", args, {});
  return v.is_undefined();
}
bool t_none(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("none", args, {});
  return v.is_none();
}
bool t_boolean(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("boolean", args, {});
  return v.is_bool();
}
bool t_true(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("true", args, {});
  return v.is_bool() && v.as_bool();
}
bool t_false(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("false", args, {});
  return v.is_bool() && !v.as_bool();
}
bool t_integer(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("integer", args, {});
  return v.is_int();
}
bool t_float(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("float", args, {});
  return v.is_float();
}
bool t_number(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("number", args, {});
  return v.is_number();
}
bool t_string(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("string", args, {});
  return v.is_string();
}
bool t_mapping(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("mapping", args, {});
  return v.is_dict();
}
bool t_iterable(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("iterable", args, {});
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_sequence(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("sequence", args, {});
  return v.is_undefined() || v.is_string() || v.is_dict() || (v.is_list() && v.as_list().kind != SeqKind::kIterator);
}
bool t_callable(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("callable", args, {});
  return v.is_undefined() || (v.is_object() && v.as_object().callable());  // Undefined has __call__
}
bool t_lower(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("lower", args, {});
  const std::string s = to_str(v);
  bool cased = false;
  for (char32_t c : py::decode(s)) {
    if (!py::is_cased(c)) continue;
    cased = true;
    if (py::to_lower(c) != c) return false;
  }
  return cased;
}
bool t_upper(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("upper", args, {});
  bool cased = false;
  for (char32_t c : py::decode(to_str(v))) {
    if (!py::is_cased(c)) continue;
    cased = true;
    if (py::to_upper(c) != c) return false;
  }
  return cased;
}

// value % m == want, with Python's % (so 2.5 is neither odd nor even, and a string formats).
bool mod_is(Interp& in, const Value& v, const Value& m, int64_t want) {
  return equals(binary_op(BinOp::kMod, v, m, in), Value::integer(want));
}
bool t_odd(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("odd", args, {});
  return mod_is(in, v, Value::integer(2), 1);
}
bool t_even(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("even", args, {});
  return mod_is(in, v, Value::integer(2), 0);
}
bool t_divisibleby(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("divisibleby", args, {"num"});
  return mod_is(in, v, a.get(0), 0);
}

const Value& other(const ArgBinder& a, const char* name) {
  if (!a.has(0)) throw RenderError(std::string(name) + "() missing 1 required positional argument");
  return a.get(0);
}
bool t_eq(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("eq", args, {"other"});
  return equals(v, other(a, "eq"));
}
bool t_ne(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("ne", args, {"other"});
  return !equals(v, other(a, "ne"));
}
bool t_lt(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("lt", args, {"other"});
  return less(v, other(a, "lt"));
}
bool t_le(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("le", args, {"other"});
  return less(v, other(a, "le")) || equals(v, a.get(0));
}
bool t_gt(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("gt", args, {"other"});
  return less(other(a, "gt"), v);
}
bool t_ge(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("ge", args, {"other"});
  return less(other(a, "ge"), v) || equals(v, a.get(0));
}
bool t_in(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("in", args, {"seq"});
  return contains(other(a, "in"), v);
}

// Python identity: None, True and False are singletons, small ints and one-character strings are
// cached by CPython, containers and objects are the same object only when shared.
bool t_sameas(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("sameas", args, {"other"});
  const Value& o = other(a, "sameas");
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Kind::kNone:
    case Kind::kUndefined:
      return v.is_none();
    case Kind::kBool:
      return v.as_bool() == o.as_bool();
    case Kind::kInt:
      return v.as_int() == o.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
    case Kind::kString:
      return v.as_string() == o.as_string() && py::length(v.as_string()) <= 1 &&
             (v.as_string().empty() || py::decode(v.as_string())[0] < 256);
    case Kind::kList:
      return v.list_ptr() == o.list_ptr();
    case Kind::kDict:
      return v.dict_ptr() == o.dict_ptr();
    case Kind::kObject:
      return v.object_ptr() == o.object_ptr();
    default:
      return false;
  }
}
bool t_escaped(Interp&, const Value&, CallArgs& args) {
  ArgBinder a("escaped", args, {});
  return false;
}
bool t_filter(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("filter", args, {});
  return v.is_string() && find_filter(v.as_string()) != nullptr;
}
bool t_test(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("test", args, {});
  return v.is_string() && find_test(v.as_string()) != nullptr;
}

struct TestEntry {
  const char* name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"defined", t_defined},   {"undefined", t_undefined}, {"none", t_none},         {"boolean", t_boolean},
    {"true", t_true},         {"false", t_false},         {"integer", t_integer},   {"float", t_float},
    {"number", t_number},     {"string", t_string},       {"mapping", t_mapping},   {"iterable", t_iterable},
    {"sequence", t_sequence}, {"callable", t_callable},   {"lower", t_lower},       {"upper", t_upper},
    {"odd", t_odd},           {"even", t_even},           {"divisibleby", t_divisibleby},
    {"eq", t_eq},             {"equalto", t_eq},          {"==", t_eq},             {"ne", t_ne},
    {"!=", t_ne},             {"lt", t_lt},               {"lessthan", t_lt},       {"<", t_lt},
    {"le", t_le},             {"<=", t_le},               {"gt", t_gt},             {"greaterthan", t_gt},
    {">", t_gt},              {"ge", t_ge},               {">=", t_ge},             {"in", t_in},
    {"sameas", t_sameas},     {"escaped", t_escaped},     {"filter", t_filter},     {"test", t_test},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const TestEntry& e : kTests)
    if (name == e.name) return e.fn;
  return nullptr;
}

}  // namespace moeinfer::jinja
