// HF transformers' tojson filter: json.dumps(x, ensure_ascii=False, indent=None, separators=None,
// sort_keys=False) by default, so non-ASCII text is kept, keys keep their order and the
// separators are ", " and ": " (or "," and ": " with an indent). Floats print as Python's repr,
// NaN/Infinity as Python's json does.
#include <cmath>
#include <cstdio>

#include "chat/jinja_interp.h"
#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

namespace {

struct JsonWriter {
  bool ensure_ascii = false;
  bool indented = false;
  std::string indent;
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
  std::string out;
  int depth = 0;

  void string(const std::string& s) {
    out.push_back('"');
    char buf[16];
    for (char32_t c : py::decode(s)) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || (ensure_ascii && c > 0x7E)) {
            if (c >= 0x10000) {
              const char32_t v = c - 0x10000;
              std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                            static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
            } else {
              std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            }
            out += buf;
          } else {
            py::append_utf8(out, c);
          }
      }
    }
    out.push_back('"');
  }

  void newline(int level) {
    if (!indented) return;
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += indent;
  }

  static std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::kString:
        return k.as_string();
      case Kind::kBool:
        return k.as_bool() ? "true" : "false";
      case Kind::kNone:
        return "null";
      case Kind::kInt:
        return std::to_string(k.as_int());
      case Kind::kFloat:
        return number(k.as_float());
      default:
        throw RenderError("keys must be str, int, float, bool or None, not " + type_name(k));
    }
  }

  static std::string number(double d) {
    if (d != d) return "NaN";
    if (d == HUGE_VAL) return "Infinity";
    if (d == -HUGE_VAL) return "-Infinity";
    return py::float_repr(d);
  }

  void value(const Value& v) {
    if (++depth > 1000) throw RenderError("value nested too deeply for tojson");
    switch (v.kind()) {
      case Kind::kNone:
        out += "null";
        break;
      case Kind::kBool:
        out += v.as_bool() ? "true" : "false";
        break;
      case Kind::kInt:
        out += std::to_string(v.as_int());
        break;
      case Kind::kFloat:
        out += number(v.as_float());
        break;
      case Kind::kString:
        string(v.as_string());
        break;
      case Kind::kList: {
        if (v.as_list().kind == SeqKind::kIterator) throw RenderError("Object of type generator is not JSON serializable");
        const auto& items = v.as_list().items;
        if (items.empty()) {
          out += "[]";
          break;
        }
        out.push_back('[');
        newline(depth);
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) {
            out += item_sep;
            newline(depth);
          }
          value(items[i]);
        }
        newline(depth - 1);
        out.push_back(']');
        break;
      }
      case Kind::kDict: {
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& kv : v.as_dict().items()) items.push_back(&kv);
        if (sort_keys) {
          // Insertion sort with less(): stable, and safe when keys are not mutually orderable.
          for (size_t i = 1; i < items.size(); ++i)
            for (size_t j = i; j > 0 && less(items[j]->first, items[j - 1]->first); --j) std::swap(items[j], items[j - 1]);
        }
        if (items.empty()) {
          out += "{}";
          break;
        }
        out.push_back('{');
        newline(depth);
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) {
            out += item_sep;
            newline(depth);
          }
          string(key_text(items[i]->first));
          out += key_sep;
          value(items[i]->second);
        }
        newline(depth - 1);
        out.push_back('}');
        break;
      }
      default:
        throw RenderError("Object of type " + type_name(v) + " is not JSON serializable");
    }
    --depth;
  }
};

}  // namespace

std::string to_json(const Value& v, bool ensure_ascii, const Value& indent, const Value& separators, bool sort_keys) {
  JsonWriter w;
  w.ensure_ascii = ensure_ascii;
  w.sort_keys = sort_keys;
  if (!indent.is_none()) {
    w.indented = true;
    if (indent.is_string()) {
      w.indent = indent.as_string();
    } else if (indent.is_integral()) {
      const int64_t n = indent.as_int();
      if (n > 4096) throw RenderError("tojson indent too large");
      w.indent.assign(static_cast<size_t>(n > 0 ? n : 0), ' ');
    } else {
      throw RenderError("tojson indent must be an int or a string, not " + type_name(indent));
    }
    w.item_sep.assign(1, ',');
  }
  if (!separators.is_none()) {
    if (!separators.is_list() || separators.as_list().items.size() != 2 || !separators.as_list().items[0].is_string() ||
        !separators.as_list().items[1].is_string())
      throw RenderError("tojson separators must be a pair of strings");
    w.item_sep = separators.as_list().items[0].as_string();
    w.key_sep = separators.as_list().items[1].as_string();
  }
  w.value(v);
  return std::move(w.out);
}

}  // namespace moeinfer::jinja
