// Jinja's built-in filters on sequences: first, last, list, join, reverse, batch, sum, min, max,
// unique, sort, map, select, reject, selectattr, rejectattr. As in Jinja, map / select / reject /
// unique / batch / reverse return generators (truthy, no length, used up once), so a template
// must write `|list` before `|length`, exactly as under Python.
#include <algorithm>

#include "chat/jinja_builtins.h"
#include "chat/jinja_pystr.h"

namespace moeinfer::jinja {

Value lookup_path(const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return get_item(item, attribute);
  Value cur = item;
  const std::string& path = attribute.as_string();
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && part.size() < 18) {
      cur = get_item(cur, Value::integer(std::stoll(part)));
    } else {
      cur = get_item(cur, Value::string(part));
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

namespace {

// A sort / unique / min / max key: the item, or its attribute(s) ("a,b" gives a list of keys),
// lower-cased unless case_sensitive.
Value sort_key(const Value& item, const Value& attribute, bool case_sensitive) {
  auto post = [&](Value v) { return case_sensitive ? v : ignore_case(v); };
  if (attribute.is_undefined() || attribute.is_none()) return post(item);
  if (attribute.is_string() && attribute.as_string().find(',') != std::string::npos) {
    std::vector<Value> keys;
    const std::string comma = ",";
    for (const std::string& part : py::split(attribute.as_string(), &comma, -1)) {
      keys.push_back(post(lookup_path(item, Value::string(part))));
    }
    return Value::list(std::move(keys));
  }
  return post(lookup_path(item, attribute));
}

// A stable merge sort that stays in bounds whatever less() answers (it may also throw).
void stable_sort(std::vector<size_t>& idx, const std::vector<Value>& keys, bool reverse) {
  if (idx.size() < 2) return;
  std::vector<size_t> left(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2));
  std::vector<size_t> right(idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2), idx.end());
  stable_sort(left, keys, reverse);
  stable_sort(right, keys, reverse);
  size_t i = 0, j = 0, k = 0;
  while (i < left.size() && j < right.size()) {
    const bool take_right = reverse ? less(keys[left[i]], keys[right[j]]) : less(keys[right[j]], keys[left[i]]);
    idx[k++] = take_right ? right[j++] : left[i++];
  }
  while (i < left.size()) idx[k++] = left[i++];
  while (j < right.size()) idx[k++] = right[j++];
}

Value f_first(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("first", args, {});
  if (v.is_list() && v.as_list().kind == SeqKind::kIterator) {
    List& l = v.as_list();
    if (l.consumed < l.items.size()) return l.items[l.consumed++];
  } else {
    std::vector<Value> items = iterate(v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

Value f_last(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("last", args, {});
  if (v.is_list() && v.as_list().kind == SeqKind::kIterator) throw RenderError("'generator' object is not reversible");
  std::vector<Value> items = iterate(v);
  if (!items.empty()) return items.back();
  return Value::undefined("No last item, sequence was empty.");
}

Value f_list(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("list", args, {});
  return Value::list(iterate(v));
}

Value f_join(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("join", args, {"d", "attribute"});
  const std::string sep = a.has(0) ? to_str(a.get(0)) : "";
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += to_str(a.has(1) && !a.get(1).is_none() ? lookup_path(item, a.get(1)) : item);
    in.check_size(out.size());
  }
  return Value::string(std::move(out));
}

Value f_reverse(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("reverse", args, {});
  if (v.is_string()) {
    std::u32string cps = py::decode(v.as_string());
    std::reverse(cps.begin(), cps.end());
    return Value::string(py::encode(cps));
  }
  if (v.is_none() || v.is_number() || v.is_object()) throw RenderError("argument must be iterable");
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  if (v.is_list() && v.as_list().kind == SeqKind::kIterator) return Value::list(std::move(items));
  return Value::iterator(std::move(items));
}

Value f_batch(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("batch", args, {"linecount", "fill_with"});
  const int64_t n = defined_or_fail(a.get(0)).as_int();
  if (n <= 0) throw RenderError("batch size must be positive");
  std::vector<Value> batches, cur;
  for (Value& item : iterate(v)) {
    cur.push_back(std::move(item));
    if (static_cast<int64_t>(cur.size()) == n) {
      batches.push_back(Value::list(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (a.has(1) && !a.get(1).is_none())
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(a.get(1));
    batches.push_back(Value::list(std::move(cur)));
  }
  return Value::iterator(std::move(batches));
}

Value f_sum(Interp& in, const Value& v, CallArgs& args) {
  ArgBinder a("sum", args, {"attribute", "start"});
  Value total = a.get_or(1, Value::integer(0));
  for (const Value& item : iterate(v))
    total = binary_op(BinOp::kAdd, total, a.has(0) && !a.get(0).is_none() ? lookup_path(item, a.get(0)) : item, in);
  return total;
}

Value min_max(const Value& v, CallArgs& args, bool want_max) {
  ArgBinder a(want_max ? "max" : "min", args, {"case_sensitive", "attribute"});
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const bool cs = truthy(a.get(0));
  size_t best = 0;
  Value best_key = sort_key(items[0], a.get(1), cs);
  for (size_t i = 1; i < items.size(); ++i) {
    Value key = sort_key(items[i], a.get(1), cs);
    if (want_max ? less(best_key, key) : less(key, best_key)) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}

Value f_min(Interp&, const Value& v, CallArgs& args) { return min_max(v, args, false); }
Value f_max(Interp&, const Value& v, CallArgs& args) { return min_max(v, args, true); }

Value f_unique(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("unique", args, {"case_sensitive", "attribute"});
  std::vector<Value> seen, out;
  for (Value& item : iterate(v)) {
    Value key = sort_key(item, a.get(1), truthy(a.get(0)));
    check_hashable(key);
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) {
      seen.push_back(std::move(key));
      out.push_back(std::move(item));
    }
  }
  return Value::iterator(std::move(out));
}

Value f_sort(Interp&, const Value& v, CallArgs& args) {
  ArgBinder a("sort", args, {"reverse", "case_sensitive", "attribute"});
  std::vector<Value> items = iterate(v);
  std::vector<Value> keys;
  std::vector<size_t> idx;
  for (size_t i = 0; i < items.size(); ++i) {
    keys.push_back(sort_key(items[i], a.get(2), truthy(a.get(1))));
    idx.push_back(i);
  }
  stable_sort(idx, keys, truthy(a.get(0)));
  std::vector<Value> out;
  for (size_t i : idx) out.push_back(items[i]);
  return Value::list(std::move(out));
}

// map(attribute='x', default=...) or map('filter', args...).
Value f_map(Interp& in, const Value& v, CallArgs& args) {
  std::vector<Value> out;
  if (!truthy(v)) return Value::iterator({});
  std::vector<Value> items = iterate(v);
  if (args.pos.empty()) {
    Value attribute, dflt;
    bool has_attr = false, has_default = false;
    for (const auto& [k, val] : args.kw) {
      if (k == "attribute") {
        attribute = val;
        has_attr = true;
      } else if (k == "default") {
        dflt = val;
        has_default = true;
      } else {
        throw RenderError("Unexpected keyword argument '" + k + "'");
      }
    }
    if (!has_attr) throw RenderError("map requires a filter argument");
    for (const Value& item : items) {
      Value r = lookup_path(item, attribute);
      out.push_back(r.is_undefined() && has_default ? dflt : std::move(r));
    }
    return Value::iterator(std::move(out));
  }
  const std::string name = to_str(args.pos[0]);
  CallArgs rest;
  rest.pos.assign(args.pos.begin() + 1, args.pos.end());
  rest.kw = args.kw;
  for (const Value& item : items) {
    CallArgs call = rest;
    out.push_back(in.filter(name, item, call));
  }
  return Value::iterator(std::move(out));
}

// select / reject / selectattr / rejectattr.
Value select_or_reject(Interp& in, const Value& v, CallArgs& args, bool select, bool by_attr) {
  if (!truthy(v)) return Value::iterator({});
  size_t off = 0;
  Value attribute;
  if (by_attr) {
    if (args.pos.empty()) throw RenderError("Missing parameter for attribute name");
    attribute = args.pos[0];
    off = 1;
  }
  std::string test_name;
  CallArgs test_args;
  const bool has_test = args.pos.size() > off;
  if (has_test) {
    test_name = to_str(args.pos[off]);
    test_args.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(off + 1), args.pos.end());
    test_args.kw = args.kw;
  }
  std::vector<Value> out;
  for (Value& item : iterate(v)) {
    const Value subject = by_attr ? lookup_path(item, attribute) : item;
    bool ok;
    if (has_test) {
      CallArgs call = test_args;
      ok = in.test(test_name, subject, call);
    } else {
      ok = truthy(subject);
    }
    if (ok == select) out.push_back(std::move(item));
  }
  return Value::iterator(std::move(out));
}

Value f_select(Interp& in, const Value& v, CallArgs& args) { return select_or_reject(in, v, args, true, false); }
Value f_reject(Interp& in, const Value& v, CallArgs& args) { return select_or_reject(in, v, args, false, false); }
Value f_selectattr(Interp& in, const Value& v, CallArgs& args) { return select_or_reject(in, v, args, true, true); }
Value f_rejectattr(Interp& in, const Value& v, CallArgs& args) { return select_or_reject(in, v, args, false, true); }

struct FilterEntry {
  const char* name;
  FilterFn fn;
};

constexpr FilterEntry kSeqFilters[] = {
    {"first", f_first},   {"last", f_last},     {"list", f_list},       {"join", f_join},
    {"reverse", f_reverse}, {"batch", f_batch}, {"sum", f_sum},         {"min", f_min},
    {"max", f_max},       {"unique", f_unique}, {"sort", f_sort},       {"map", f_map},
    {"select", f_select}, {"reject", f_reject}, {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr},
};

}  // namespace

FilterFn find_seq_filter(std::string_view name) {
  for (const FilterEntry& e : kSeqFilters)
    if (name == e.name) return e.fn;
  return nullptr;
}

}  // namespace moeinfer::jinja
