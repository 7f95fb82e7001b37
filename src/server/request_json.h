// Request bodies: JSON parsed with the bounds a server needs before nlohmann sees the text
// (nesting depth), and typed accessors that answer a wrong type or range with a 400 naming the
// field (server/api_error.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moeinfer {

using Json = nlohmann::ordered_json;

constexpr int kMaxJsonDepth = 64;

// Parses a request body: an object, nested at most kMaxJsonDepth deep, valid UTF-8. Throws ApiError.
Json parse_request_body(const std::string& body);

// Field accessors: absent (or null) gives the fallback; a present value of the wrong type or out
// of [lo, hi] throws ApiError 400 naming the field.
bool get_bool(const Json& j, const char* key, bool fallback);
double get_number(const Json& j, const char* key, double fallback, double lo, double hi);
// An integer (a JSON number with no fraction) in [lo, hi].
int64_t get_int(const Json& j, const char* key, int64_t fallback, int64_t lo, int64_t hi);
std::string get_string(const Json& j, const char* key, const std::string& fallback);

// JSON text of j for a response: invalid UTF-8 (a model can emit broken bytes) is replaced.
std::string dump_json(const Json& j);

}  // namespace moeinfer
