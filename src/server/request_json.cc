#include "server/request_json.h"

#include <cmath>

#include "server/api_error.h"

namespace moeinfer {

namespace {

// Depth of [ and { outside strings; stops early past the limit.
bool depth_ok(const std::string& s) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

const Json* field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

Json parse_request_body(const std::string& body) {
  if (body.empty()) throw ApiError(400, "the request body is empty; expected a JSON object");
  if (!depth_ok(body))
    throw ApiError(400, "the request body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  Json j;
  try {
    j = Json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's message names the byte offset and the problem (invalid UTF-8, a number out of range)
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return j;
}

bool get_bool(const Json& j, const char* key, bool fallback) {
  const Json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw bad_field(key, "expected true or false");
  return v->get<bool>();
}

double get_number(const Json& j, const char* key, double fallback, double lo, double hi) {
  const Json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_number()) throw bad_field(key, "expected a number");
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi))
    throw bad_field(key, "expected a number in [" + Json(lo).dump() + ", " + Json(hi).dump() + "]");
  return d;
}

int64_t get_int(const Json& j, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  const Json* v = field(j, key);
  if (!v) return fallback;
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      throw bad_field(key, "expected an integer in " + range);
    const int64_t i = v->get<int64_t>();
    if (i < lo || i > hi) throw bad_field(key, "expected an integer in " + range);
    return i;
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::floor(d) == d && d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) return static_cast<int64_t>(d);
  }
  throw bad_field(key, "expected an integer in " + range);
}

std::string get_string(const Json& j, const char* key, const std::string& fallback) {
  const Json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_string()) throw bad_field(key, "expected a string");
  return v->get<std::string>();
}

std::string dump_json(const Json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace moeinfer
