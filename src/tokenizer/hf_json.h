// Typed reads from tokenizer.json objects; every failure is an Error naming the file and the JSON
// path of the field ("pre_tokenizer.pretokenizers[2].pattern").
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace moeinfer::hfjson {

using Json = nlohmann::json;

inline std::string type_name(const Json& v) { return v.type_name(); }

// The member, or nullptr when absent or null.
inline const Json* member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

inline const Json& require(const Json& obj, const char* key, const std::string& file, const std::string& path) {
  const Json* v = member(obj, key);
  if (!v) throw Error(file, path + "." + key, "expected a value, but it is missing");
  return *v;
}

inline std::string get_string(const Json& obj, const char* key, const std::string& file, const std::string& path,
                              const std::string& fallback) {
  const Json* v = member(obj, key);
  if (!v) return fallback;
  if (!v->is_string()) throw Error(file, path + "." + key, "expected a string, got " + type_name(*v));
  return v->get<std::string>();
}

inline std::string require_string(const Json& obj, const char* key, const std::string& file,
                                  const std::string& path) {
  const Json& v = require(obj, key, file, path);
  if (!v.is_string()) throw Error(file, path + "." + key, "expected a string, got " + type_name(v));
  return v.get<std::string>();
}

inline bool get_bool(const Json& obj, const char* key, const std::string& file, const std::string& path,
                     bool fallback) {
  const Json* v = member(obj, key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw Error(file, path + "." + key, "expected true or false, got " + type_name(*v));
  return v->get<bool>();
}

inline int64_t get_int(const Json& obj, const char* key, const std::string& file, const std::string& path,
                       int64_t fallback) {
  const Json* v = member(obj, key);
  if (!v) return fallback;
  if (!v->is_number_integer()) throw Error(file, path + "." + key, "expected an integer, got " + type_name(*v));
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw Error(file, path + "." + key, "expected an integer below 2^63");
  return v->get<int64_t>();
}

// Token ids in tokenizer files: integers in [0, 2^31 - 1).
inline int32_t to_token_id(const Json& v, const std::string& file, const std::string& field) {
  if (!v.is_number_integer()) throw Error(file, field, "expected a token id (an integer), got " + type_name(v));
  const bool negative = v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0;
  if (negative || v.get<uint64_t>() >= static_cast<uint64_t>(INT32_MAX))
    throw Error(file, field, "expected a token id in [0, 2147483647), got " + v.dump());
  return static_cast<int32_t>(v.get<int64_t>());
}

// A {"String": s} or {"Regex": r} pattern object (Replace, Split).
struct Pattern {
  bool is_regex = false;
  std::string text;
};
inline Pattern get_pattern(const Json& obj, const std::string& file, const std::string& path) {
  const Json& p = require(obj, "pattern", file, path);
  const std::string field = path + ".pattern";
  if (p.is_object()) {
    if (const Json* s = member(p, "String"); s && s->is_string()) return {false, s->get<std::string>()};
    if (const Json* r = member(p, "Regex"); r && r->is_string()) return {true, r->get<std::string>()};
  }
  throw Error(file, field, "expected {\"String\": ...} or {\"Regex\": ...}, got " + p.dump().substr(0, 80));
}

}  // namespace moeinfer::hfjson
