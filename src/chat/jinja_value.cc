#include "chat/jinja_value.h"

#include <algorithm>
#include <limits>

#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

namespace {

// Bounds the recursion of the functions below over nested values (a template can build a list
// nested a million deep in a loop; printing it must fail, not overflow the stack).
thread_local int nest_depth = 0;
struct NestGuard {
  NestGuard() {
    if (++nest_depth > 1000) {
      --nest_depth;
      throw RenderError("value nested too deeply");
    }
  }
  ~NestGuard() { --nest_depth; }
  NestGuard(const NestGuard&) = delete;
  NestGuard& operator=(const NestGuard&) = delete;
};

}  // namespace

Value Value::undefined(std::string message) {
  Value v;
  v.s_ = std::move(message);
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::number(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = d;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::move(s);
  return v;
}

int nesting(const Value& v) {
  switch (v.kind()) {
    case Kind::kList:
      return v.as_list().depth;
    case Kind::kDict:
      return v.as_dict().depth();
    case Kind::kObject:
      return v.as_object().depth();
    default:
      return 0;
  }
}

Value Value::list(std::vector<Value> items) {
  int depth = 1;
  for (const Value& item : items) depth = std::max(depth, nesting(item) + 1);
  if (depth > kMaxNesting) throw RenderError("value nested too deeply");
  Value v;
  v.kind_ = Kind::kList;
  v.l_ = std::make_shared<List>();
  v.l_->items = std::move(items);
  v.l_->depth = depth;
  return v;
}
Value Value::tuple(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.l_->kind = SeqKind::kTuple;
  return v;
}
Value Value::iterator(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.l_->kind = SeqKind::kIterator;
  return v;
}
Value Value::dict(DictPtr d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.d_ = std::move(d);
  return v;
}
Value Value::object(ObjectPtr o) {
  Value v;
  v.kind_ = Kind::kObject;
  v.o_ = std::move(o);
  return v;
}

double Value::as_float() const {
  if (kind_ == Kind::kFloat) return f_;
  if (kind_ == Kind::kInt) return static_cast<double>(i_);
  return b_ ? 1.0 : 0.0;
}

// ---- Dict -------------------------------------------------------------------------------------

const Value* Dict::find(std::string_view key) const {
  auto it = string_index_.find(std::string(key));
  return it == string_index_.end() ? nullptr : &items_[it->second].second;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  for (const auto& kv : items_)
    if (!kv.first.is_string() && equals(kv.first, key)) return &kv.second;
  return nullptr;
}

void Dict::set(Value key, Value value) {
  check_hashable(key);
  const int depth = std::max(nesting(key), nesting(value)) + 1;
  if (depth > kMaxNesting) throw RenderError("value nested too deeply");
  depth_ = std::max(depth_, depth);
  if (key.is_string()) {
    auto it = string_index_.find(key.as_string());
    if (it != string_index_.end()) {
      items_[it->second].second = std::move(value);
      return;
    }
    string_index_.emplace(key.as_string(), items_.size());
  } else {
    for (auto& kv : items_)
      if (!kv.first.is_string() && equals(kv.first, key)) {
        kv.second = std::move(value);
        return;
      }
  }
  items_.emplace_back(std::move(key), std::move(value));
}

// ---- Object -----------------------------------------------------------------------------------

std::string Object::repr() const {
  std::string s = "<";
  s += type_name();
  return s + " object>";
}

Value Object::get_attr(const std::string& name) const {
  std::string message = "'";
  message += type_name();
  message += " object' has no attribute '" + name + "'";
  return Value::undefined(std::move(message));
}

bool Object::set_attr(const std::string&, Value) { return false; }

Value Object::call(Interp&, CallArgs&) { throw RenderError("'" + type_name() + "' object is not callable"); }

// ---- Python semantics -------------------------------------------------------------------------

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.as_bool();
    case Kind::kInt:
      return v.as_int() != 0;
    case Kind::kFloat:
      return v.as_float() != 0.0;
    case Kind::kString:
      return !v.as_string().empty();
    case Kind::kList:
      return v.as_list().kind == SeqKind::kIterator || !v.as_list().items.empty();
    case Kind::kDict:
      return v.as_dict().size() != 0;
    case Kind::kObject:
      return true;
  }
  return false;
}

static std::string seq_str(const List& l) {
  NestGuard guard;
  if (l.kind == SeqKind::kIterator) return "<generator object>";
  std::string out = l.kind == SeqKind::kTuple ? "(" : "[";
  for (size_t i = 0; i < l.items.size(); ++i) {
    if (i) out += ", ";
    out += repr(l.items[i]);
  }
  if (l.kind == SeqKind::kTuple) return out + (l.items.size() == 1 ? ",)" : ")");
  return out + "]";
}

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return v.as_bool() ? "True" : "False";
    case Kind::kInt:
      return std::to_string(v.as_int());
    case Kind::kFloat:
      return py::float_repr(v.as_float());
    case Kind::kString:
      return v.as_string();
    case Kind::kList:
      return seq_str(v.as_list());
    case Kind::kDict: {
      NestGuard guard;
      std::string out = "{";
      bool first = true;
      for (const auto& kv : v.as_dict().items()) {
        if (!first) out += ", ";
        first = false;
        out += repr(kv.first) + ": " + repr(kv.second);
      }
      return out + "}";
    }
    case Kind::kObject:
      return v.as_object().repr();
  }
  return "";
}

std::string repr(const Value& v) {
  if (v.is_undefined()) return "Undefined";
  if (v.is_string()) return py::repr(v.as_string());
  return to_str(v);
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return v.as_list().kind == SeqKind::kList ? "list" : v.as_list().kind == SeqKind::kTuple ? "tuple" : "generator";
    case Kind::kDict:
      return "dict";
    case Kind::kObject:
      return v.as_object().type_name();
  }
  return "object";
}

bool equals(const Value& a, const Value& b) {
  NestGuard guard;
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.as_string() == b.as_string();
    case Kind::kList: {
      const List &x = a.as_list(), &y = b.as_list();
      if (x.kind == SeqKind::kIterator || y.kind == SeqKind::kIterator) return a.list_ptr() == b.list_ptr();
      if (x.kind != y.kind || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i)
        if (!equals(x.items[i], y.items[i])) return false;
      return true;
    }
    case Kind::kDict: {
      const Dict &x = a.as_dict(), &y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x.items()) {
        const Value* other = y.find(kv.first);
        if (!other || !equals(kv.second, *other)) return false;
      }
      return true;
    }
    case Kind::kObject:
      return a.object_ptr() == b.object_ptr();
    default:
      return false;
  }
}

bool less(const Value& a, const Value& b) {
  NestGuard guard;
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int();
    return a.as_float() < b.as_float();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind && a.as_list().kind != SeqKind::kIterator) {
    const auto &x = a.as_list().items, &y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (!equals(x[i], y[i])) return less(x[i], y[i]);
    return x.size() < y.size();
  }
  throw RenderError("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string())
        throw RenderError("'in <string>' requires string as left operand, not " + type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::kList: {
      List& l = container.as_list();
      size_t start = l.kind == SeqKind::kIterator ? l.consumed : 0;
      for (size_t i = start; i < l.items.size(); ++i) {
        if (equals(l.items[i], item)) {
          if (l.kind == SeqKind::kIterator) l.consumed = i + 1;
          return true;
        }
      }
      if (l.kind == SeqKind::kIterator) l.consumed = l.items.size();
      return false;
    }
    case Kind::kDict:
      check_hashable(item);
      return container.as_dict().find(item) != nullptr;
    default:
      throw RenderError("argument of type '" + type_name(container) + "' is not iterable");
  }
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return {};
    case Kind::kList: {
      List& l = v.as_list();
      if (l.kind != SeqKind::kIterator) return l.items;
      std::vector<Value> rest(l.items.begin() + static_cast<std::ptrdiff_t>(std::min(l.consumed, l.items.size())),
                              l.items.end());
      l.consumed = l.items.size();
      return rest;
    }
    case Kind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.as_dict().size());
      for (const auto& kv : v.as_dict().items()) keys.push_back(kv.first);
      return keys;
    }
    case Kind::kString: {
      std::vector<Value> chars;
      for (char32_t c : py::decode(v.as_string())) {
        std::string s;
        py::append_utf8(s, c);
        chars.push_back(Value::string(std::move(s)));
      }
      return chars;
    }
    default:
      throw RenderError("'" + type_name(v) + "' object is not iterable");
  }
}

void check_hashable(const Value& key) {
  NestGuard guard;
  if (key.is_dict() || (key.is_list() && key.as_list().kind == SeqKind::kList))
    throw RenderError("unhashable type: '" + type_name(key) + "'");
  if (key.is_list())
    for (const Value& item : key.as_list().items) check_hashable(item);
}

void fail_undefined(const Value& v) { throw RenderError(v.undefined_message()); }

const Value& defined_or_fail(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  return v;
}

Value from_json(const nlohmann::ordered_json& j) {
  NestGuard guard;
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return Value::integer(static_cast<int64_t>(u));
      return Value::number(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto d = std::make_shared<Dict>();
      for (auto it = j.begin(); it != j.end(); ++it) d->set(Value::string(it.key()), from_json(it.value()));
      return Value::dict(std::move(d));
    }
    default:
      return Value::none();
  }
}

// ---- ArgBinder --------------------------------------------------------------------------------

ArgBinder::ArgBinder(const std::string& func, const CallArgs& args, std::vector<std::string> names)
    : values_(names.size()), set_(names.size(), false) {
  if (args.pos.size() > names.size())
    throw RenderError(func + "() takes at most " + std::to_string(names.size()) + " argument(s) (" +
                      std::to_string(args.pos.size()) + " given)");
  for (size_t i = 0; i < args.pos.size(); ++i) {
    values_[i] = args.pos[i];
    set_[i] = true;
  }
  for (const auto& [key, value] : args.kw) {
    size_t i = 0;
    while (i < names.size() && names[i] != key) ++i;
    if (i == names.size()) throw RenderError(func + "() got an unexpected keyword argument '" + key + "'");
    if (set_[i]) throw RenderError(func + "() got multiple values for argument '" + key + "'");
    values_[i] = value;
    set_[i] = true;
  }
}

}  // namespace moeinfer::jinja
