// Python operators and Jinja's attribute/item access (environment.getattr / getitem of Jinja's
// immutable sandbox, the environment HF renders in).
#include <cmath>
#include <cstdio>

#include "chat/jinja_interp.h"
#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

namespace {

// Jinja's object_type_repr: "None" or "<type> object".
std::string object_type(const Value& v) { return v.is_none() ? "None" : type_name(v) + " object"; }

Value no_attribute(const Value& obj, const std::string& name) {
  std::string message = "'";
  message += object_type(obj);
  message += "' has no attribute '" + name + "'";
  return Value::undefined(std::move(message));
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_object()) return obj.as_object().get_attr(name);
  bool found = false;
  Value m = get_method(obj, name, &found);
  if (found) return m;
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(std::string_view(name))) return *v;
  }
  return no_attribute(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) {
    if (!(key.is_dict() || (key.is_list() && key.as_list().kind != SeqKind::kTuple))) {
      if (const Value* v = obj.as_dict().find(key)) return *v;
    }
  } else if (obj.is_list() && obj.as_list().kind != SeqKind::kIterator && key.is_integral()) {
    const auto& items = obj.as_list().items;
    int64_t i = key.as_int();
    const int64_t n = static_cast<int64_t>(items.size());
    if (i < 0) i += n;
    if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
    return Value::undefined(std::string("'") + object_type(obj) + "' has no element " + repr(key));
  } else if (obj.is_string() && key.is_integral()) {
    const std::u32string cps = py::decode(obj.as_string());
    int64_t i = key.as_int();
    const int64_t n = static_cast<int64_t>(cps.size());
    if (i < 0) i += n;
    if (i >= 0 && i < n) return Value::string(py::encode(std::u32string(1, cps[static_cast<size_t>(i)])));
    return Value::undefined(std::string("'") + object_type(obj) + "' has no element " + repr(key));
  }
  if (key.is_string()) {
    if (obj.is_object()) return obj.as_object().get_attr(key.as_string());
    bool found = false;
    Value m = get_method(obj, key.as_string(), &found);
    if (found) return m;
    return no_attribute(obj, key.as_string());
  }
  return Value::undefined(std::string("'") + object_type(obj) + "' has no element " + repr(key));
}

// Jinja compiles a[b:c] to a plain Python subscript (slices bypass environment.getitem), so
// unlike a[b] every failure raises.
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) fail_undefined(obj);
  const bool is_str = obj.is_string();
  if (obj.is_dict()) throw RenderError("unhashable type: 'slice'");
  if (!is_str && !(obj.is_list() && obj.as_list().kind != SeqKind::kIterator))
    throw RenderError("'" + type_name(obj) + "' object is not subscriptable");
  for (const Value* v : {&start, &stop, &step}) {
    if (v->is_undefined()) fail_undefined(*v);
    if (!v->is_none() && !v->is_integral())
      throw RenderError("slice indices must be integers or None or have an __index__ method");
  }
  const int64_t st = step.is_none() ? 1 : step.as_int();
  if (st == 0) throw RenderError("slice step cannot be zero");
  std::u32string cps;
  if (is_str) cps = py::decode(obj.as_string());
  const int64_t n = is_str ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(obj.as_list().items.size());
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](const Value& v, int64_t dflt) -> int64_t {
    if (v.is_none()) return dflt;
    int64_t i = v.as_int();
    if (i < 0) {
      i = i < -n ? (st < 0 ? -1 : 0) : i + n;
    } else if (i >= n) {
      i = st < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t b = adjust(start, st > 0 ? 0 : n - 1);
  const int64_t e = adjust(stop, st > 0 ? n : -1);
  std::vector<size_t> picks;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) picks.push_back(static_cast<size_t>(i));
  if (is_str) {
    std::u32string out;
    for (size_t i : picks) out.push_back(cps[i]);
    return Value::string(py::encode(out));
  }
  std::vector<Value> items;
  for (size_t i : picks) items.push_back(obj.as_list().items[i]);
  return obj.as_list().kind == SeqKind::kTuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
}

namespace {

const char* op_symbol(BinOp op) {
  switch (op) {
    case BinOp::kAdd:
      return "+";
    case BinOp::kSub:
      return "-";
    case BinOp::kMul:
      return "*";
    case BinOp::kDiv:
      return "/";
    case BinOp::kFloorDiv:
      return "//";
    case BinOp::kMod:
      return "%";
    case BinOp::kPow:
      return "**";
  }
  return "?";
}

[[noreturn]] void unsupported(BinOp op, const Value& a, const Value& b) {
  throw RenderError(std::string("unsupported operand type(s) for ") + op_symbol(op) + ": '" + type_name(a) +
                    "' and '" + type_name(b) + "'");
}

[[noreturn]] void overflow() { throw RenderError("integer overflow"); }

// CPython's float divmod.
void float_divmod(double vx, double wx, double* floordiv, double* mod) {
  double m = std::fmod(vx, wx);
  double div = (vx - m) / wx;
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) {
      m += wx;
      div -= 1.0;
    }
  } else {
    m = std::copysign(0.0, wx);
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  *floordiv = fd;
  *mod = m;
}

Value int_op(BinOp op, int64_t x, int64_t y) {
  int64_t r = 0;
  switch (op) {
    case BinOp::kAdd:
      if (__builtin_add_overflow(x, y, &r)) overflow();
      return Value::integer(r);
    case BinOp::kSub:
      if (__builtin_sub_overflow(x, y, &r)) overflow();
      return Value::integer(r);
    case BinOp::kMul:
      if (__builtin_mul_overflow(x, y, &r)) overflow();
      return Value::integer(r);
    case BinOp::kDiv:
      if (y == 0) throw RenderError("division by zero");
      return Value::number(static_cast<double>(x) / static_cast<double>(y));
    case BinOp::kFloorDiv:
    case BinOp::kMod: {
      if (y == 0) throw RenderError("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) {
        if (op == BinOp::kMod) return Value::integer(0);
        overflow();
      }
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        q -= 1;
        m += y;
      }
      return Value::integer(op == BinOp::kFloorDiv ? q : m);
    }
    case BinOp::kPow: {
      if (y < 0) {
        if (x == 0) throw RenderError("0.0 cannot be raised to a negative power");
        return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
      }
      int64_t result = 1, base = x;
      for (int64_t e = y; e > 0; e >>= 1) {
        if (e & 1)
          if (__builtin_mul_overflow(result, base, &result)) overflow();
        if (e > 1)
          if (__builtin_mul_overflow(base, base, &base)) overflow();
      }
      return Value::integer(result);
    }
  }
  return Value();
}

Value float_op(BinOp op, double x, double y) {
  switch (op) {
    case BinOp::kAdd:
      return Value::number(x + y);
    case BinOp::kSub:
      return Value::number(x - y);
    case BinOp::kMul:
      return Value::number(x * y);
    case BinOp::kDiv:
      if (y == 0.0) throw RenderError("float division by zero");
      return Value::number(x / y);
    case BinOp::kFloorDiv:
    case BinOp::kMod: {
      if (y == 0.0) throw RenderError(op == BinOp::kMod ? "float modulo" : "float floor division by zero");
      double fd, m;
      float_divmod(x, y, &fd, &m);
      return Value::number(op == BinOp::kFloorDiv ? fd : m);
    }
    case BinOp::kPow:
      if (x == 0.0 && y < 0.0) throw RenderError("0.0 cannot be raised to a negative power");
      return Value::number(std::pow(x, y));
  }
  return Value();
}

Value repeat(const Value& seq, int64_t times, const Interp& in) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    const size_t unit = seq.as_string().size();
    if (unit && static_cast<uint64_t>(times) > in.limits().max_size / unit) in.check_size(in.limits().max_size + 1);
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.as_string();
    return Value::string(std::move(out));
  }
  const auto& items = seq.as_list().items;
  if (!items.empty() && static_cast<uint64_t>(times) > in.limits().max_size / items.size())
    in.check_size(in.limits().max_size + 1);
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.as_list().kind == SeqKind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

bool is_seq(const Value& v) { return v.is_string() || (v.is_list() && v.as_list().kind != SeqKind::kIterator); }

}  // namespace

Value binary_op(BinOp op, const Value& a, const Value& b, const Interp& in) {
  if (a.is_undefined()) fail_undefined(a);
  if (op == BinOp::kMod && a.is_string()) {  // str % x formats; even an Undefined x is only used by a spec
    std::string s = percent_format(a.as_string(), b);
    in.check_size(s.size());
    return Value::string(std::move(s));
  }
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return int_op(op, a.as_int(), b.as_int());
    return float_op(op, a.as_float(), b.as_float());
  }
  switch (op) {
    case BinOp::kAdd:
      if (a.is_string() && b.is_string()) {
        in.check_size(a.as_string().size() + b.as_string().size());
        return Value::string(a.as_string() + b.as_string());
      }
      if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind &&
          a.as_list().kind != SeqKind::kIterator) {
        std::vector<Value> items = a.as_list().items;
        items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
        in.check_size(items.size());
        return a.as_list().kind == SeqKind::kTuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
      }
      if (a.is_string() || (a.is_list() && a.as_list().kind == SeqKind::kList))
        throw RenderError("can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " +
                          type_name(a));
      unsupported(op, a, b);
    case BinOp::kMul:
      if (is_seq(a) && b.is_integral()) return repeat(a, b.as_int(), in);
      if (a.is_integral() && is_seq(b)) return repeat(b, a.as_int(), in);
      unsupported(op, a, b);
    default:
      unsupported(op, a, b);
  }
}

Value negate(const Value& v, bool minus) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) {
    if (!minus) return Value::integer(v.as_int());
    if (v.as_int() == INT64_MIN) overflow();
    return Value::integer(-v.as_int());
  }
  if (v.is_float()) return Value::number(minus ? -v.as_float() : v.as_float());
  throw RenderError(std::string("bad operand type for unary ") + (minus ? "-" : "+") + ": '" + type_name(v) + "'");
}

std::string percent_format(const std::string& fmt, const Value& args) {
  std::vector<Value> list;
  const Dict* mapping = nullptr;
  // CPython treats any non-tuple argument with __getitem__ (dict, list) as a mapping: unused
  // arguments are then no error.
  bool mapping_like = false;
  if (args.is_list() && args.as_list().kind == SeqKind::kTuple) {
    list = args.as_list().items;
  } else {
    if (args.is_dict()) mapping = &args.as_dict();
    mapping_like = args.is_dict() || args.is_undefined() || (args.is_list() && args.as_list().kind == SeqKind::kList);
    list.push_back(args);
  }
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) throw RenderError("incomplete format");
    const Value* arg = nullptr;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string::npos || !mapping) throw RenderError("format requires a mapping");
      arg = mapping->find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (!arg) throw RenderError("format key " + fmt.substr(i + 1, close - i - 1) + " not found");
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) flags += fmt[i++];
    std::string width, prec;
    while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') width += fmt[i++];
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      prec = ".";
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') prec += fmt[i++];
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) throw RenderError("incomplete format");
    const char conv = fmt[i];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    if (!arg) {
      if (next >= list.size()) throw RenderError("not enough arguments for format string");
      arg = &list[next++];
    }
    if (width.size() > 4 || prec.size() > 4) throw RenderError("format width or precision too large");
    char buf[512];
    const std::string spec = "%" + flags + width + prec;
    if (conv == 's' || conv == 'r' || conv == 'a') {
      std::string s = conv == 's' ? to_str(*arg) : repr(*arg);
      if (prec.size() > 1) {
        std::u32string cps = py::decode(s);
        const size_t p = static_cast<size_t>(std::stoul(prec.substr(1)));
        if (cps.size() > p) s = py::encode(cps.substr(0, p));
      }
      const size_t w = width.empty() ? 0 : static_cast<size_t>(std::stoul(width));
      const size_t len = py::length(s);
      if (len < w) {
        if (flags.find('-') != std::string::npos) {
          s += std::string(w - len, ' ');
        } else {
          s = std::string(w - len, ' ') + s;
        }
      }
      out += s;
    } else if (std::string_view("diuxXoc").find(conv) != std::string_view::npos) {
      if (arg->is_undefined()) fail_undefined(*arg);
      if (!arg->is_number()) throw RenderError(std::string("%") + conv + " format: a number is required, not " + type_name(*arg));
      const long long v = arg->is_float() ? static_cast<long long>(arg->as_float()) : arg->as_int();
      if (conv == 'c') {
        py::append_utf8(out, static_cast<char32_t>(v));
        continue;
      }
      const char c = conv == 'i' || conv == 'u' ? 'd' : conv;
      std::snprintf(buf, sizeof buf, (spec + "ll" + c).c_str(), v);
      out += buf;
    } else if (std::string_view("eEfFgG").find(conv) != std::string_view::npos) {
      if (arg->is_undefined()) fail_undefined(*arg);
      if (!arg->is_number()) throw RenderError(std::string("must be real number, not ") + type_name(*arg));
      std::snprintf(buf, sizeof buf, (spec + conv).c_str(), arg->as_float());
      out += buf;
    } else {
      throw RenderError(std::string("unsupported format character '") + conv + "'");
    }
  }
  if (!used_mapping && !mapping_like && next < list.size())
    throw RenderError("not all arguments converted during string formatting");
  return out;
}

}  // namespace moeinfer::jinja
