// A minimal streaming JSON writer into a string: compact output, floats with 9 significant
// digits (round-trips float32), strings escaped and made valid UTF-8 (invalid bytes -> U+FFFD).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace moeinfer {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& s);
  JsonWriter& value(const char* s) { return value(std::string(s)); }
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(uint64_t v);
  JsonWriter& value(double v);  // 17 significant digits; NaN/inf -> null
  JsonWriter& value(float v);   // 9 significant digits; NaN/inf -> null
  JsonWriter& value(bool v);
  JsonWriter& null();
  JsonWriter& floats(const float* v, int64_t n);
  JsonWriter& ints(const std::vector<int32_t>& v);

  const std::string& str() const { return out_; }

 private:
  void sep();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Escapes s as a JSON string literal (with quotes), sanitizing invalid UTF-8.
std::string json_quote(const std::string& s);

}  // namespace moeinfer
