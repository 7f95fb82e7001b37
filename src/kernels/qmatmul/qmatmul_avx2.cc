// AVX2 quantized matmul (contract in qmatmul.h). Q8_0-activation formats: 32-element blocks,
// unpacked to int8 and multiplied with maddubs/madd. k-quants have no AVX2 kernel yet (nullptr:
// the dispatcher falls back to the scalar reference).
#include <immintrin.h>

#include <cstring>

#include "kernels/qmatmul/qmatmul.h"
#include "tensor/fp16.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

inline float hsum8(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// Σ a[i]·b[i] over 32 int8 pairs as 8 int32 lanes (signs moved onto b so maddubs sees unsigned a).
inline __m256i dot32(__m256i a, __m256i b) {
  const __m256i ax = _mm256_sign_epi8(a, a), sy = _mm256_sign_epi8(b, a);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// Unpacked int8 weights of one 32-element block.
inline __m256i unpack_q8_0(const BlockQ8_0& w) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qs)); }
inline __m256i unpack_q4_0(const BlockQ4_0& w) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
  return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}
inline __m256i unpack_q5_0(const BlockQ5_0& w) {
  uint32_t qh;
  std::memcpy(&qh, w.qh, 4);
  alignas(32) int8_t v[32];
  for (int j = 0; j < 16; ++j) {
    v[j] = static_cast<int8_t>(((w.qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10)) - 16);
    v[j + 16] = static_cast<int8_t>(((w.qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16);
  }
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(v));
}

template <typename Block, __m256i (*kUnpack)(const Block&)>
void qmatmul_q8act(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  const int64_t nb = a.cols / kQK4;
  for (int64_t r = r0; r < r1; ++r) {
    const Block* w = reinterpret_cast<const Block*>(a.w + static_cast<uint64_t>(r) * a.row_bytes);
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const BlockQ8_0* x = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
      __m256 acc = _mm256_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        const __m256i p = dot32(kUnpack(w[b]), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
        const float d = f16_to_f32(w[b].d) * f16_to_f32(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
      }
      a.y[t * a.ldy + r] = hsum8(acc);
    }
  }
}

}  // namespace

QMatmulFn qmatmul_avx2(DType t) {
  switch (t) {
    case DType::kQ8_0: return qmatmul_q8act<BlockQ8_0, unpack_q8_0>;
    case DType::kQ4_0: return qmatmul_q8act<BlockQ4_0, unpack_q4_0>;
    case DType::kQ5_0: return qmatmul_q8act<BlockQ5_0, unpack_q5_0>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
