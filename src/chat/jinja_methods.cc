// Python methods of str, dict, list and tuple values, as templates call them: message.content
// .strip(), tool.items(), content.split('</think>')[-1], ... Mutating methods (list.append,
// dict.update, ...) exist but are refused, as in HF's ImmutableSandboxedEnvironment.
#include <algorithm>
#include <array>

#include "chat/jinja_interp.h"
#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

namespace {

constexpr std::array kStrMethods = {
    "capitalize", "casefold", "center",    "count",      "encode",      "endswith",     "expandtabs",
    "find",       "format",   "format_map", "index",     "isalnum",     "isalpha",      "isascii",
    "isdecimal",  "isdigit",  "isidentifier", "islower", "isnumeric",   "isprintable",  "isspace",
    "istitle",    "isupper",  "join",      "ljust",      "lower",       "lstrip",       "maketrans",
    "partition",  "removeprefix", "removesuffix", "replace", "rfind",   "rindex",       "rjust",
    "rpartition", "rsplit",   "rstrip",    "split",      "splitlines",  "startswith",   "strip",
    "swapcase",   "title",    "translate", "upper",      "zfill"};
constexpr std::array kDictMethods = {"copy", "fromkeys", "get", "items", "keys", "values"};
constexpr std::array kDictMutators = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::array kListMutators = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};

template <size_t N>
bool in(const std::array<const char*, N>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

const std::string& str_arg(const Value& v, const char* method) {
  if (!v.is_string())
    throw RenderError(std::string(method) + "() argument must be str, not " + type_name(v));
  return v.as_string();
}

int64_t int_arg(const Value& v, const char* method) {
  if (!v.is_integral())
    throw RenderError(std::string(method) + "() argument must be an integer, not " + type_name(v));
  return v.as_int();
}

// "abc" -> "abc" clipped to [start, end) in code points, with Python's index adjustment.
std::string clip(const std::string& s, const Value& start, const Value& end) {
  if ((start.is_undefined() || start.is_none()) && (end.is_undefined() || end.is_none())) return s;
  return slice(Value::string(s), start.is_undefined() ? Value::none() : start,
               end.is_undefined() ? Value::none() : end, Value::none())
      .as_string();
}

bool affix_match(const std::string& s, const Value& affix, bool prefix, const char* method) {
  auto one = [&](const Value& a) {
    const std::string& x = str_arg(a, method);
    if (x.size() > s.size()) return false;
    return prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (affix.is_list() && affix.as_list().kind == SeqKind::kTuple) {
    for (const Value& a : affix.as_list().items)
      if (one(a)) return true;
    return false;
  }
  return one(affix);
}

Value pad(const std::string& s, const Value& width, const Value& fill, int where /*-1 ljust 0 center 1 rjust*/) {
  const int64_t w = int_arg(width, "pad");
  std::string f = fill.is_undefined() ? " " : str_arg(fill, "pad");
  if (py::length(f) != 1) throw RenderError("the fill character must be exactly one character long");
  const int64_t len = static_cast<int64_t>(py::length(s));
  if (w <= len) return Value::string(s);
  if (w > (1 << 24)) throw RenderError("padding width too large");
  const int64_t total = w - len;
  int64_t left = where < 0 ? 0 : where > 0 ? total : total / 2 + (total & w & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += f;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += f;
  return Value::string(std::move(out));
}

template <typename Pred>
bool all_chars(const std::string& s, Pred p) {
  std::u32string cps = py::decode(s);
  return !cps.empty() && std::all_of(cps.begin(), cps.end(), p);
}

// str.format with positional / named fields, !r / !s conversions and no format specs beyond an
// optional width for strings.
std::string str_format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      else throw RenderError("Single '}' encountered in format string");
      out.push_back('}');
      continue;
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) throw RenderError("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    char conv = 0;
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      conv = bang + 1 < field.size() ? field[bang + 1] : 0;
      field.resize(bang);
    }
    if (field.find(':') != std::string::npos) throw RenderError("format specs in str.format are not supported");
    const Value* v = nullptr;
    if (field.empty()) {
      if (auto_index >= args.pos.size()) throw RenderError("Replacement index out of range for positional args tuple");
      v = &args.pos[auto_index++];
    } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      const size_t k = field.size() > 6 ? SIZE_MAX : std::stoul(field);
      if (k >= args.pos.size()) throw RenderError("Replacement index out of range for positional args tuple");
      v = &args.pos[k];
    } else {
      for (const auto& kv : args.kw)
        if (kv.first == field) v = &kv.second;
      if (!v) throw RenderError("KeyError: '" + field + "'");
    }
    out += conv == 'r' ? repr(*v) : to_str(*v);
  }
  return out;
}

Value str_method(Interp& in, const std::string& s, const std::string& name, CallArgs& args) {
  const std::string fn = "str." + name;
  if (name == "format") {
    std::string r = str_format(s, args);
    in.check_size(r.size());
    return Value::string(std::move(r));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    ArgBinder a(fn, args, {"chars"});
    const Value& chars = a.get(0);
    const std::string* set = chars.is_undefined() || chars.is_none() ? nullptr : &str_arg(chars, fn.c_str());
    return Value::string(py::strip(s, set, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    ArgBinder a(fn, args, {"sep", "maxsplit"});
    const Value& sep = a.get(0);
    const std::string* sp = sep.is_undefined() || sep.is_none() ? nullptr : &str_arg(sep, fn.c_str());
    const int64_t maxsplit = a.has(1) ? int_arg(a.get(1), fn.c_str()) : -1;
    std::vector<std::string> parts;
    try {
      parts = name == "split" ? py::split(s, sp, maxsplit) : py::rsplit(s, sp, maxsplit);
    } catch (const std::invalid_argument& e) {
      throw RenderError(e.what());
    }
    std::vector<Value> items;
    for (auto& p : parts) items.push_back(Value::string(std::move(p)));
    return Value::list(std::move(items));
  }
  if (name == "splitlines") {
    ArgBinder a(fn, args, {"keepends"});
    std::vector<Value> items;
    for (auto& p : py::splitlines(s, truthy(a.get(0)))) items.push_back(Value::string(std::move(p)));
    return Value::list(std::move(items));
  }
  if (name == "startswith" || name == "endswith") {
    ArgBinder a(fn, args, {"affix", "start", "end"});
    if (!a.has(0)) throw RenderError(fn + "() takes at least 1 argument (0 given)");
    return Value::boolean(affix_match(clip(s, a.get(1), a.get(2)), a.get(0), name == "startswith", fn.c_str()));
  }
  if (name == "upper") return Value::string(py::upper(s));
  if (name == "lower" || name == "casefold") return Value::string(py::lower(s));
  if (name == "title") return Value::string(py::title(s));
  if (name == "capitalize") return Value::string(py::capitalize(s));
  if (name == "swapcase") {
    std::u32string out;
    for (char32_t c : py::decode(s)) out.push_back(py::to_upper(c) != c ? py::to_upper(c) : py::to_lower(c));
    return Value::string(py::encode(out));
  }
  if (name == "replace") {
    ArgBinder a(fn, args, {"old", "new", "count"});
    const int64_t count = a.has(2) ? int_arg(a.get(2), fn.c_str()) : -1;
    std::string r = py::replace(s, str_arg(a.get(0), fn.c_str()), str_arg(a.get(1), fn.c_str()), count);
    in.check_size(r.size());
    return Value::string(std::move(r));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    ArgBinder a(fn, args, {"sub", "start", "end"});
    const std::string& sub = str_arg(a.get(0), fn.c_str());
    const std::u32string cps = py::decode(s);
    const int64_t n = static_cast<int64_t>(cps.size());
    auto adjust = [&](const Value& v, int64_t dflt) -> int64_t {
      if (v.is_undefined() || v.is_none()) return dflt;
      int64_t i = int_arg(v, fn.c_str());
      if (i < 0) i = std::max<int64_t>(0, i + n);
      return std::min(i, n);
    };
    const int64_t b = adjust(a.get(1), 0), e = adjust(a.get(2), n);
    const std::string window = b < e ? py::encode(cps.substr(static_cast<size_t>(b), static_cast<size_t>(e - b))) : "";
    if (name == "count") return Value::integer(b <= e ? py::count(window, sub) : 0);
    const int64_t r = b <= e ? py::find(window, sub, name[0] == 'r') : -1;
    if (r < 0 && (name == "index" || name == "rindex")) throw RenderError("substring not found");
    return Value::integer(r < 0 ? -1 : r + b);
  }
  if (name == "join") {
    ArgBinder a(fn, args, {"iterable"});
    std::string out;
    bool first = true;
    for (const Value& v : iterate(a.get(0))) {
      if (!v.is_string()) throw RenderError("sequence item: expected str instance, " + type_name(v) + " found");
      if (!first) out += s;
      first = false;
      out += v.as_string();
      in.check_size(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    ArgBinder a(fn, args, {"affix"});
    const std::string& x = str_arg(a.get(0), fn.c_str());
    if (x.size() <= s.size()) {
      if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) return Value::string(s.substr(x.size()));
      if (name == "removesuffix" && s.compare(s.size() - x.size(), x.size(), x) == 0)
        return Value::string(s.substr(0, s.size() - x.size()));
    }
    return Value::string(s);
  }
  if (name == "partition" || name == "rpartition") {
    ArgBinder a(fn, args, {"sep"});
    const std::string& sep = str_arg(a.get(0), fn.c_str());
    if (sep.empty()) throw RenderError("empty separator");
    const size_t at = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (at == std::string::npos) {
      return name == "partition"
                 ? Value::tuple({Value::string(s), Value::string(""), Value::string("")})
                 : Value::tuple({Value::string(""), Value::string(""), Value::string(s)});
    }
    return Value::tuple({Value::string(s.substr(0, at)), Value::string(sep), Value::string(s.substr(at + sep.size()))});
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    ArgBinder a(fn, args, {"width", "fillchar"});
    return pad(s, a.get(0), a.get(1), name == "ljust" ? -1 : name == "rjust" ? 1 : 0);
  }
  if (name == "zfill") {
    ArgBinder a(fn, args, {"width"});
    const int64_t w = int_arg(a.get(0), fn.c_str());
    const int64_t len = static_cast<int64_t>(py::length(s));
    if (w <= len) return Value::string(s);
    if (w > (1 << 24)) throw RenderError("zfill width too large");
    const bool sign = !s.empty() && (s[0] == '+' || s[0] == '-');
    std::string zeros(static_cast<size_t>(w - len), '0');
    return Value::string(sign ? s.substr(0, 1) + zeros + s.substr(1) : zeros + s);
  }
  if (name == "isspace") return Value::boolean(all_chars(s, py::is_space));
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric")
    return Value::boolean(all_chars(s, [](char32_t c) { return c >= '0' && c <= '9'; }));
  if (name == "isalpha")
    return Value::boolean(all_chars(s, [](char32_t c) { return py::is_cased(c) || (c >= 0x4E00 && c <= 0x9FFF); }));
  if (name == "isalnum")
    return Value::boolean(all_chars(s, [](char32_t c) { return py::is_cased(c) || (c >= '0' && c <= '9'); }));
  if (name == "isascii") return Value::boolean(std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; }));
  if (name == "islower" || name == "isupper") {
    bool cased = false;
    for (char32_t c : py::decode(s)) {
      if (!py::is_cased(c)) continue;
      cased = true;
      if (name == "islower" ? py::to_lower(c) != c : py::to_upper(c) != c) return Value::boolean(false);
    }
    return Value::boolean(cased);
  }
  if (name == "istitle") return Value::boolean(!s.empty() && py::title(s) == s && py::lower(s) != s);
  throw RenderError(fn + "() is not supported");
}

Value dict_method(const Value& self, const std::string& name, CallArgs& args) {
  const Dict& d = self.as_dict();
  const std::string fn = "dict." + name;
  if (name == "get") {
    ArgBinder a(fn, args, {"key", "default"});
    if (!a.has(0)) throw RenderError("get expected at least 1 argument, got 0");
    check_hashable(a.get(0));
    const Value* v = d.find(a.get(0));
    return v ? *v : a.get_or(1, Value::none());
  }
  ArgBinder a(fn, args, {});
  if (name == "items") {
    std::vector<Value> items;
    for (const auto& kv : d.items()) items.push_back(Value::tuple({kv.first, kv.second}));
    return Value::list(std::move(items));
  }
  if (name == "keys" || name == "values") {
    std::vector<Value> items;
    for (const auto& kv : d.items()) items.push_back(name == "keys" ? kv.first : kv.second);
    return Value::list(std::move(items));
  }
  if (name == "copy") {
    auto c = std::make_shared<Dict>(d);
    return Value::dict(std::move(c));
  }
  throw RenderError(fn + "() is not supported");
}

Value list_method(const Value& self, const std::string& name, CallArgs& args) {
  const auto& items = self.as_list().items;
  const std::string fn = type_name(self) + "." + name;
  if (name == "copy") {
    ArgBinder a(fn, args, {});
    return Value::list(items);
  }
  ArgBinder a(fn, args, {"value"});
  if (name == "count") {
    return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, a.get(0)); }));
  }
  for (size_t i = 0; i < items.size(); ++i)
    if (equals(items[i], a.get(0))) return Value::integer(static_cast<int64_t>(i));
  throw RenderError(repr(a.get(0)) + " is not in list");
}

class BoundMethod : public Object {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  std::string repr() const override {
    return "<built-in method " + name_ + " of " + jinja::type_name(self_) + " object>";
  }
  bool callable() const override { return true; }
  Value call(Interp& in, CallArgs& args) override {
    if (self_.is_string()) return str_method(in, self_.as_string(), name_, args);
    if (self_.is_dict()) return dict_method(self_, name_, args);
    return list_method(self_, name_, args);
  }

 private:
  Value self_;
  std::string name_;
};

}  // namespace

Value get_method(const Value& self, const std::string& name, bool* found) {
  *found = true;
  bool method = false, mutator = false;
  if (self.is_string()) {
    method = in(kStrMethods, name);
  } else if (self.is_dict()) {
    method = in(kDictMethods, name);
    mutator = in(kDictMutators, name);
  } else if (self.is_list() && self.as_list().kind != SeqKind::kIterator) {
    const bool is_list = self.as_list().kind == SeqKind::kList;
    method = name == "count" || name == "index" || (is_list && name == "copy");
    mutator = is_list && in(kListMutators, name);
  }
  if (method) return Value::object(std::make_shared<BoundMethod>(self, name));
  if (mutator)
    return Value::undefined("access to attribute '" + name + "' of '" + type_name(self) + "' object is unsafe.");
  *found = false;
  return Value();
}

}  // namespace moeinfer::jinja
