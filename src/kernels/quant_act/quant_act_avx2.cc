// AVX2 activation quantizers, byte-identical to the reference (see quant_act.h).
#include <immintrin.h>

#include <cstring>

#include "kernels/quant_act/quant_act.h"
#include "tensor/fp16.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline float hmax(__m256 v) {
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

inline int hsum_epi32(__m256i v) {
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
  return _mm_cvtsi128_si32(h);
}

// roundf(p) for |p| < 2^31: truncate, then step by the sign when the exact remainder reaches 1/2
// (a true compare is all ones, i.e. -1).
inline __m256i round_half_away(__m256 p) {
  const __m256i t = _mm256_cvttps_epi32(p);
  const __m256 r = _mm256_sub_ps(p, _mm256_cvtepi32_ps(t));
  const __m256i up = _mm256_castps_si256(_mm256_cmp_ps(r, _mm256_set1_ps(0.5f), _CMP_GE_OQ));
  const __m256i down = _mm256_castps_si256(_mm256_cmp_ps(r, _mm256_set1_ps(-0.5f), _CMP_LE_OQ));
  return _mm256_add_epi32(_mm256_sub_epi32(t, up), down);
}

// Four vectors of 8 int32 in [-128, 127] -> 32 int8 in order.
inline __m256i pack4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

}  // namespace

void quant_act_q8_0_avx2(const float* x, int64_t n, void* blocks) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(blocks);
  for (int64_t b = 0; b < n / kQK4; ++b, x += kQK4) {
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
    const __m256 m01 = _mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])), m23 = _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3]));
    const float amax = hmax(_mm256_max_ps(m01, m23));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    const __m256 s = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = round_half_away(_mm256_mul_ps(v[k], s));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), pack4(q[0], q[1], q[2], q[3]));
  }
}

void quant_act_q8_k_avx2(const float* x, int64_t n, void* blocks) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(blocks);
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < kQKK; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + j)));
    const float amax = hmax(m);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    // the reference keeps the first element of largest magnitude, with its sign
    float max = 0.0f;
    const __m256 am = _mm256_set1_ps(amax);
    for (int j = 0; j < kQKK; j += 8) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + j)), am, _CMP_EQ_OQ));
      if (hit) {
        max = x[j + __builtin_ctz(static_cast<unsigned>(hit))];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m256 s = _mm256_set1_ps(iscale);
    const __m256i hi = _mm256_set1_epi32(127);
    for (int j = 0; j < kQKK; j += 32) {
      __m256i q[4];  // round half to even (MXCSR default), as the reference's nearest_int
      for (int k = 0; k < 4; ++k)
        q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), s)), hi);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + j), pack4(q[0], q[1], q[2], q[3]));
      y[b].bsums[j / 16] = static_cast<int16_t>(hsum_epi32(_mm256_add_epi32(q[0], q[1])));
      y[b].bsums[j / 16 + 1] = static_cast<int16_t>(hsum_epi32(_mm256_add_epi32(q[2], q[3])));
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace moeinfer
