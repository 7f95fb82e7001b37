// Element types and block formats. Values of the GGML types equal ggml's `enum ggml_type`, the ids
// stored in GGUF tensor infos (ggml.h / gguf.md). A block format stores `block_size` consecutive
// elements of one row in `type_size` bytes; a row of n elements (n a multiple of block_size) takes
// n / block_size * type_size bytes. Types outside ggml (FP8 from safetensors) use ids >= 1000.
#pragma once
#include <cstdint>
#include <string>

namespace moeinfer {

enum class DType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kIQ2_XXS = 16, kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19, kIQ4_NL = 20, kIQ3_S = 21, kIQ2_S = 22,
  kIQ4_XS = 23, kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kIQ1_M = 29, kBF16 = 30,
  kTQ1_0 = 34, kTQ2_0 = 35, kMXFP4 = 39,
  kF8_E4M3 = 1000,  // safetensors F8_E4M3 (DeepSeek-V3), one byte per element
};

struct DTypeTraits {
  const char* name;     // ggml's name, e.g. "q4_K"
  int64_t block_size;   // elements per block (1 for plain types)
  int64_t type_size;    // bytes per block
  bool usable;          // the engine can compute with this type now (others are only recognized)
};

// Returns nullptr for ids that are not a known type (removed ggml ids such as 4, 5, 31..33 included).
const DTypeTraits* dtype_traits(uint32_t id);
const DTypeTraits& dtype_traits(DType t);
inline const char* dtype_name(DType t) { return dtype_traits(t).name; }

// Bytes of a row of n elements; false when n is not a multiple of the block size or on overflow.
bool dtype_row_bytes(DType t, uint64_t n, uint64_t* bytes);

}  // namespace moeinfer
