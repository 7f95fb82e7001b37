// The global functions every Jinja environment has: range (with the sandbox's 100000-item cap),
// dict, namespace, joiner and cycler. HF's own globals (raise_exception, strftime_now) are added
// by chat_template.cc.
#include "chat/jinja_interp.h"

namespace moeinfer::jinja {

namespace {

class Function : public Object {
 public:
  Function(std::string name, NativeFn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string type_name() const override { return "function"; }
  std::string repr() const override { return "<function " + name_ + ">"; }
  bool callable() const override { return true; }
  Value call(Interp& in, CallArgs& args) override { return fn_(in, args); }

 private:
  std::string name_;
  NativeFn fn_;
};

// jinja2.utils.Namespace: the one mutable object, assigned with {% set ns.attr = ... %}.
class Namespace : public Object {
 public:
  std::string type_name() const override { return "Namespace"; }
  std::string repr() const override { return "<Namespace " + to_str(Value::dict(attrs_)) + ">"; }
  Value get_attr(const std::string& name) const override {
    if (const Value* v = attrs_->find(std::string_view(name))) return *v;
    return Object::get_attr(name);
  }
  bool set_attr(const std::string& name, Value v) override {
    attrs_->set(Value::string(name), std::move(v));
    return true;
  }
  int depth() const override { return attrs_->depth() + 1; }
  void release() override { attrs_ = std::make_shared<Dict>(); }

 private:
  DictPtr attrs_ = std::make_shared<Dict>();
};

class Cycler : public Object, public std::enable_shared_from_this<Cycler> {
 public:
  explicit Cycler(std::vector<Value> items) : items_(std::move(items)) {}
  std::string type_name() const override { return "Cycler"; }
  Value get_attr(const std::string& name) const override {
    auto self = std::const_pointer_cast<Cycler>(shared_from_this());
    if (name == "current") return items_[pos_];
    if (name == "next")
      return make_function("next", [self](Interp&, CallArgs&) {
        Value v = self->items_[self->pos_];
        self->pos_ = (self->pos_ + 1) % self->items_.size();
        return v;
      });
    if (name == "reset")
      return make_function("reset", [self](Interp&, CallArgs&) {
        self->pos_ = 0;
        return Value::none();
      });
    return Object::get_attr(name);
  }

 private:
  std::vector<Value> items_;
  size_t pos_ = 0;
};

// dict(mapping_or_pairs, **kwargs).
void update_dict(Dict& d, const Value& source) {
  if (source.is_dict()) {
    for (const auto& kv : source.as_dict().items()) d.set(kv.first, kv.second);
    return;
  }
  for (const Value& pair : iterate(source)) {
    std::vector<Value> kv = iterate(pair);
    if (kv.size() != 2) throw RenderError("dictionary update sequence element has length " + std::to_string(kv.size()) + "; 2 is required");
    d.set(kv[0], kv[1]);
  }
}

Value fn_range(Interp&, CallArgs& args) {
  if (!args.kw.empty()) throw RenderError("range() takes no keyword arguments");
  if (args.pos.empty() || args.pos.size() > 3)
    throw RenderError("range expected 1 to 3 arguments, got " + std::to_string(args.pos.size()));
  for (const Value& v : args.pos) {
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_integral()) throw RenderError("'" + type_name(v) + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop, step = 1;
  if (args.pos.size() == 1) {
    stop = args.pos[0].as_int();
  } else {
    start = args.pos[0].as_int();
    stop = args.pos[1].as_int();
    if (args.pos.size() == 3) step = args.pos[2].as_int();
  }
  if (step == 0) throw RenderError("range() arg 3 must not be zero");
  // Jinja's sandbox refuses ranges longer than MAX_RANGE = 100000.
  const long double len = step > 0 ? (static_cast<long double>(stop) - start + step - 1) / step
                                   : (static_cast<long double>(start) - stop - step - 1) / -step;
  if (len > 100000) throw RenderError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.push_back(Value::integer(i));
  return Value::list(std::move(items));
}

Value fn_dict(Interp&, CallArgs& args) {
  if (args.pos.size() > 1) throw RenderError("dict expected at most 1 argument, got " + std::to_string(args.pos.size()));
  auto d = std::make_shared<Dict>();
  if (!args.pos.empty()) update_dict(*d, args.pos[0]);
  for (const auto& [k, v] : args.kw) d->set(Value::string(k), v);
  return Value::dict(std::move(d));
}

Value fn_namespace(Interp& in, CallArgs& args) {
  if (args.pos.size() > 1) throw RenderError("namespace expected at most 1 positional argument");
  auto ns = std::make_shared<Namespace>();
  in.track(ns);
  if (!args.pos.empty()) {
    Dict d;
    update_dict(d, args.pos[0]);
    for (const auto& kv : d.items()) {
      if (!kv.first.is_string()) throw RenderError("namespace keys must be strings");
      ns->set_attr(kv.first.as_string(), kv.second);
    }
  }
  for (const auto& [k, v] : args.kw) ns->set_attr(k, v);
  return Value::object(std::move(ns));
}

Value fn_joiner(Interp&, CallArgs& args) {
  ArgBinder a("joiner", args, {"sep"});
  const std::string sep = a.has(0) ? to_str(a.get(0)) : ", ";
  auto used = std::make_shared<bool>(false);
  return make_function("joiner", [sep, used](Interp&, CallArgs&) {
    if (!*used) {
      *used = true;
      return Value::string("");
    }
    return Value::string(sep);
  });
}

Value fn_cycler(Interp&, CallArgs& args) {
  if (args.pos.empty()) throw RenderError("at least one item has to be provided");
  return Value::object(std::make_shared<Cycler>(args.pos));
}

}  // namespace

Value make_function(std::string name, NativeFn fn) {
  return Value::object(std::make_shared<Function>(std::move(name), std::move(fn)));
}

void add_default_globals(Scope& globals) {
  globals.set("range", make_function("range", fn_range));
  globals.set("dict", make_function("dict", fn_dict));
  globals.set("namespace", make_function("namespace", fn_namespace));
  globals.set("joiner", make_function("joiner", fn_joiner));
  globals.set("cycler", make_function("cycler", fn_cycler));
}

}  // namespace moeinfer::jinja
