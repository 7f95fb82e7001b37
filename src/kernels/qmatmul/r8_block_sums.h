// Shared by the interleaved Q8_0/Q4_0 kernels (qmatmul_r8_avx2.cc, qmatmul_r8_avx512.cc): the
// per-block summary of Q8_0 activation rows that their inner loops read, and the group block size.
// Every including TU (compiled with its own ISA flags) gets its own copy.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "kernels/qmatmul/qmatmul.h"
#include "tensor/fp16.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {
namespace {

// Per activation block: its scale and k·Σx, the correction for the weights' unsigned offset in
// the form the kernel wants (AVX2: half the offset, subtracted from each of a row's two lanes;
// AVX-512: minus the offset, where each row's sum starts).
struct XSum {
  float d;
  int32_t c;
};

template <DType kType>
constexpr uint64_t group_block_bytes() {
  return kType == DType::kQ8_0 ? 8 * sizeof(BlockQ8_0) : 8 * sizeof(BlockQ4_0);
}

// xs[t·nb + b] for every token t and 32-element block b of the activation rows. Every item of a
// matmul computes them (a 4-token decode batch: 512 blocks for a 2048-column matrix), so Σx comes
// from one sum of absolute differences over the bytes with their sign bit flipped (AVX2, which both
// including kernels have): Σ (x + 128) - 32·128.
inline void block_sums(const QMatmulArgs& a, int32_t k, std::vector<XSum>& xs) {
  const int64_t nb = a.cols / 32;
  xs.resize(static_cast<size_t>(a.n_tok * nb));
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t t = 0; t < a.n_tok; ++t) {
    const BlockQ8_0* x = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
    for (int64_t b = 0; b < nb; ++b) {
      const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)), flip);
      const __m256i sad = _mm256_sad_epu8(v, _mm256_setzero_si256());
      const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
      const int32_t sum = static_cast<int32_t>(_mm_cvtsi128_si64(_mm_add_epi64(s2, _mm_unpackhi_epi64(s2, s2)))) - 32 * 128;
      xs[static_cast<size_t>(t * nb + b)] = {f16_to_f32(x[b].d), k * sum};
    }
  }
}

}  // namespace
}  // namespace moeinfer
