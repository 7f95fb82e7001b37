// GGUF metadata values (gguf.md: "GGUF file structure"). Types are the file's type ids.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace moeinfer {

enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6, kBool = 7,
  kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};

const char* gguf_type_name(GgufType t);

// One value. Arrays store their elements compactly by kind, all of `elem_type`: integers and bools
// in `ints` (uint64 values above INT64_MAX wrap), floats in `floats`, strings in `strs`, nested
// arrays in `items`. Only one of the four is used, per elem_type.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  uint64_t u = 0;   // unsigned integers and bool
  int64_t i = 0;    // signed integers
  double f = 0.0;   // float32 / float64
  std::string str;  // kString
  GgufType elem_type = GgufType::kUint8;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strs;
  std::vector<GgufValue> items;

  size_t array_size() const { return ints.size() + floats.size() + strs.size() + items.size(); }

  bool is_integer() const;
  bool is_float() const { return type == GgufType::kFloat32 || type == GgufType::kFloat64; }
};

struct GgufKV {
  std::string key;
  GgufValue value;
};

}  // namespace moeinfer
