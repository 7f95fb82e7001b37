// FP8 E4M3 ("e4m3fn", OCP 8-bit floating point as used by DeepSeek-V3 checkpoints):
// 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits; no infinities; S.1111.111 is NaN;
// the largest finite value is 448 (0.1111.110 = 1.75 · 2^8); exponent 0 encodes subnormals
// m/8 · 2^-6. Decoding is exact in F32.
#pragma once
#include <cmath>
#include <cstdint>

namespace moeinfer {

inline float fp8_e4m3_to_f32(uint8_t b) {
  const int sign = b >> 7, exp = (b >> 3) & 0xf, man = b & 0x7;
  float v;
  if (exp == 0xf && man == 0x7) return std::nanf("");
  if (exp == 0) v = std::ldexp(static_cast<float>(man), -9);  // m/8 · 2^-6
  else v = std::ldexp(1.0f + static_cast<float>(man) / 8.0f, exp - 7);
  return sign ? -v : v;
}

// All 256 decoded values, built once (the kernels' lookup table).
const float* fp8_e4m3_table();

}  // namespace moeinfer
