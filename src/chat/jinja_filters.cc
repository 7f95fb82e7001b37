// Jinja's built-in filters on single values (strings, numbers, mappings), with HF's tojson.
// Each follows jinja2/filters.py: e.g. `trim` is str(value).strip(chars), so None|trim is "None".
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja_builtins.h"
#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

namespace {

Value f_trim(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("trim", args, {"chars"});
  std::string chars;
  const bool has = a.has(0) && !a.get(0).is_none();
  if (has) chars = to_str(a.get(0));
  return Value::string(py::strip(to_str(v), has ? &chars : nullptr, true, true));
}

Value f_upper(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("upper", args, {});
  return Value::string(py::upper(to_str(v)));
}

Value f_lower(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("lower", args, {});
  return Value::string(py::lower(to_str(v)));
}

Value f_capitalize(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("capitalize", args, {});
  return Value::string(py::capitalize(to_str(v)));
}

// Jinja's title: every run after one of -, whitespace, (, {, [, < starts upper-cased, the rest of
// it lower-cased (unlike Python's str.title, "they're" becomes "They're").
Value f_title(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("title", args, {});
  std::string out;
  bool word_start = true;
  for (char32_t c : py::decode(to_str(v))) {
    std::string ch;
    py::append_utf8(ch, c);
    out += word_start ? py::upper(ch) : py::lower(ch);
    const bool delim = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py::is_space(c);
    word_start = delim;
  }
  return Value::string(std::move(out));
}

Value f_replace(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("replace", args, {"old", "new", "count"});
  const int64_t count = a.has(2) && !a.get(2).is_none() ? defined_or_fail(a.get(2)).as_int() : -1;
  std::string r = py::replace(to_str(v), to_str(a.get(0)), to_str(a.get(1)), count);
  in.check_size(r.size());
  return Value::string(std::move(r));
}

Value f_string(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("string", args, {});
  return Value::string(to_str(v));
}

Value f_escape(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("escape", args, {});
  std::string out;
  for (char c : to_str(v)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return Value::string(std::move(out));
}

Value f_indent(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("indent", args, {"width", "first", "blank"});
  // Jinja appends "\n" to the value itself, so only strings are accepted.
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_string()) throw RenderError("unsupported operand type(s) for +=: '" + type_name(v) + "' and 'str'");
  std::string indention;
  const Value width = a.get_or(0, Value::integer(4));
  if (width.is_string()) {
    indention = width.as_string();
  } else {
    const int64_t w = defined_or_fail(width).as_int();
    in.check_size(static_cast<size_t>(std::max<int64_t>(0, w)));
    indention.assign(static_cast<size_t>(std::max<int64_t>(0, w)), ' ');
  }
  std::vector<std::string> lines = py::splitlines(v.as_string() + "\n", false);
  std::string rv;
  if (truthy(a.get(2))) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += '\n';
      if (!lines[i].empty()) rv += indention + lines[i];
    }
  }
  if (truthy(a.get(1))) rv = indention + rv;
  in.check_size(rv.size());
  return Value::string(std::move(rv));
}

Value f_center(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("center", args, {"width"});
  const std::string s = to_str(v);
  const int64_t w = a.has(0) ? defined_or_fail(a.get(0)).as_int() : 80;
  const int64_t len = static_cast<int64_t>(py::length(s));
  if (w <= len) return Value::string(s);
  if (w > (1 << 24)) throw RenderError("center width too large");
  const int64_t total = w - len, left = total / 2 + (total & w & 1);
  return Value::string(std::string(static_cast<size_t>(left), ' ') + s +
                       std::string(static_cast<size_t>(total - left), ' '));
}

// Jinja's wordcount: the number of \w+ runs (letters, digits and underscores of any script).
Value f_wordcount(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("wordcount", args, {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : py::decode(to_str(v))) {
    const bool word = (c < 0x80) ? (std::isalnum(static_cast<int>(c)) || c == '_')
                                 : !(py::is_space(c) || (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) ||
                                     (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7);
    if (word && !in_word) ++n;
    in_word = word;
  }
  return Value::integer(n);
}

Value f_format(Interp& in, const Value& v, CallArgs& args) {
  if (!args.pos.empty() && !args.kw.empty())
    throw RenderError("can't handle positional and keyword arguments at the same time");
  Value fmt_args;
  if (!args.kw.empty()) {
    auto d = std::make_shared<Dict>();
    for (const auto& [k, val] : args.kw) d->set(Value::string(k), val);
    fmt_args = Value::dict(std::move(d));
  } else {
    fmt_args = Value::tuple(args.pos);
  }
  std::string r = percent_format(to_str(v), fmt_args);
  in.check_size(r.size());
  return Value::string(std::move(r));
}

// Python int(str, base): optional sign, underscores between digits, surrounding whitespace.
bool parse_int(const std::string& text, int base, int64_t* out) {
  const std::string s = py::strip(text, nullptr, true, true);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (base == 16 && s.compare(i, 2, "0x") == 0) i += 2;
  if (base == 8 && s.compare(i, 2, "0o") == 0) i += 2;
  if (base == 2 && s.compare(i, 2, "0b") == 0) i += 2;
  if (i >= s.size()) return false;
  __int128 acc = 0;
  bool prev_digit = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_' && prev_digit && i + 1 < s.size()) {
      prev_digit = false;
      continue;
    }
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : 99;
    if (d >= base) return false;
    acc = acc * base + d;
    if (acc > static_cast<__int128>(INT64_MAX) + 1) return false;
    prev_digit = true;
  }
  if (!prev_digit) return false;
  if (neg) acc = -acc;
  if (acc > INT64_MAX || acc < INT64_MIN) return false;
  *out = static_cast<int64_t>(acc);
  return true;
}

// Python float(str): decimal or exponent notation, inf/nan words, underscores between digits.
bool parse_float(const std::string& text, double* out) {
  std::string s = py::lower(py::strip(text, nullptr, true, true));
  std::string body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body = body.substr(1);
  const bool neg = !s.empty() && s[0] == '-';
  if (body == "inf" || body == "infinity") {
    *out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (body == "nan") {
    *out = std::nan("");
    return true;
  }
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return false;
      continue;
    }
    if (!(std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' || s[i] == '+' || s[i] == '-'))
      return false;
    clean.push_back(s[i]);
  }
  if (clean.empty() || clean.find_first_of("0123456789") == std::string::npos) return false;
  char* end = nullptr;
  *out = std::strtod(clean.c_str(), &end);
  return end && *end == '\0';
}

Value f_int(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("int", args, {"default", "base"});
  const Value dflt = a.get_or(0, Value::integer(0));
  const int64_t base = a.has(1) ? defined_or_fail(a.get(1)).as_int() : 10;
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) {
    const double d = v.as_float();
    if (std::isnan(d)) return dflt;
    if (std::isinf(d) || std::fabs(d) >= 9.2e18) throw RenderError("cannot convert float to integer");
    return Value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    int64_t i = 0;
    if (base >= 2 && base <= 36 && parse_int(v.as_string(), static_cast<int>(base), &i)) return Value::integer(i);
    double d = 0;
    if (parse_float(v.as_string(), &d) && std::isfinite(d) && std::fabs(d) < 9.2e18)
      return Value::integer(static_cast<int64_t>(d));
  }
  return dflt;
}

Value f_float(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("float", args, {"default"});
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_number()) return Value::number(v.as_float());
  double d = 0;
  if (v.is_string() && parse_float(v.as_string(), &d)) return Value::number(d);
  return a.get_or(0, Value::number(0.0));
}

Value f_abs(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("abs", args, {});
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) throw RenderError("integer overflow");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  throw RenderError("bad operand type for abs(): '" + type_name(v) + "'");
}

// Python round(x, n): correctly rounded, ties to even on the exact binary value.
double py_round(double x, int64_t n) {
  if (!std::isfinite(x)) return x;
  if (n == 0) return std::nearbyint(x);
  if (n > 0 && n <= 300) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  if (n > 300) return x;
  const double p = std::pow(10.0, static_cast<double>(-n));
  return std::nearbyint(x / p) * p;
}

Value f_round(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("round", args, {"precision", "method"});
  const int64_t precision = a.has(0) ? defined_or_fail(a.get(0)).as_int() : 0;
  const std::string method = a.has(1) ? to_str(a.get(1)) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    throw RenderError("method must be common, ceil or floor");
  if (!v.is_number()) throw RenderError("type " + type_name(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_integral() && precision >= 0) return Value::integer(v.as_int());
    return Value::number(py_round(v.as_float(), precision));
  }
  const double p = std::pow(10.0, static_cast<double>(precision));
  const double scaled = v.as_float() * p;
  return Value::number((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / p);
}

Value f_default(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("default", args, {"default_value", "boolean"});
  if (v.is_undefined() || (truthy(a.get(1)) && !truthy(v))) return a.get_or(0, Value::string(""));
  return v;
}

Value f_length(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("length", args, {});
  switch (v.kind()) {
    case Kind::kUndefined:
      return Value::integer(0);
    case Kind::kString:
      return Value::integer(static_cast<int64_t>(py::length(v.as_string())));
    case Kind::kDict:
      return Value::integer(static_cast<int64_t>(v.as_dict().size()));
    case Kind::kList:
      if (v.as_list().kind != SeqKind::kIterator) return Value::integer(static_cast<int64_t>(v.as_list().items.size()));
      [[fallthrough]];
    default:
      throw RenderError("object of type '" + type_name(v) + "' has no len()");
  }
}

Value f_tojson(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  std::string s = to_json(v, truthy(a.get(0)), a.get_or(1, Value::none()), a.get_or(2, Value::none()),
                          truthy(a.get(3)));
  in.check_size(s.size());
  return Value::string(std::move(s));
}

Value f_attr(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("attr", args, {"name"});
  const std::string name = to_str(a.get(0));
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_object()) return v.as_object().get_attr(name);
  bool found = false;
  Value m = get_method(v, name, &found);
  return found ? m : Value::undefined(std::string("'") + type_name(v) + " object' has no attribute '" + name + "'");
}

Value f_items(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("items", args, {});
  if (v.is_undefined()) return Value::iterator({});
  if (!v.is_dict()) throw RenderError("Can only get item pairs from a mapping.");
  std::vector<Value> items;
  for (const auto& kv : v.as_dict().items()) items.push_back(Value::tuple({kv.first, kv.second}));
  return Value::iterator(std::move(items));
}

Value f_dictsort(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("dictsort", args, {"case_sensitive", "by", "reverse"});
  if (!v.is_dict()) throw RenderError("dictsort requires a mapping");
  const bool cs = truthy(a.get(0));
  const std::string by = a.has(1) ? to_str(a.get(1)) : "key";
  if (by != "key" && by != "value") throw RenderError("You can only sort by either \"key\" or \"value\"");
  std::vector<Value> items;
  for (const auto& kv : v.as_dict().items()) items.push_back(Value::tuple({kv.first, kv.second}));
  const size_t pos = by == "key" ? 0 : 1;
  // Stable insertion sort: dicts in templates are small, and less() may throw on mixed types.
  for (size_t i = 1; i < items.size(); ++i) {
    for (size_t j = i; j > 0; --j) {
      Value x = items[j - 1].as_list().items[pos], y = items[j].as_list().items[pos];
      if (!cs) {
        x = ignore_case(x);
        y = ignore_case(y);
      }
      const bool swap = truthy(a.get(2)) ? less(x, y) : less(y, x);
      if (!swap) break;
      std::swap(items[j - 1], items[j]);
    }
  }
  return Value::list(std::move(items));
}

struct FilterEntry {
  const char* name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"trim", f_trim},         {"upper", f_upper},       {"lower", f_lower},   {"capitalize", f_capitalize},
    {"title", f_title},       {"replace", f_replace},   {"string", f_string}, {"safe", f_string},
    {"escape", f_escape},     {"e", f_escape},          {"forceescape", f_escape}, {"indent", f_indent},
    {"center", f_center},     {"format", f_format},     {"int", f_int},       {"float", f_float},
    {"abs", f_abs},           {"round", f_round},       {"default", f_default}, {"d", f_default},
    {"length", f_length},     {"count", f_length},      {"tojson", f_tojson}, {"attr", f_attr},
    {"items", f_items},       {"dictsort", f_dictsort}, {"wordcount", f_wordcount},
};

}  // namespace

Value ignore_case(const Value& v) { return v.is_string() ? Value::string(py::lower(v.as_string())) : v; }

FilterFn find_filter(std::string_view name) {
  for (const FilterEntry& e : kFilters)
    if (name == e.name) return e.fn;
  return find_seq_filter(name);
}

}  // namespace moeinfer::jinja
