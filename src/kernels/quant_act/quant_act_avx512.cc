// AVX-512 activation quantizers, byte-identical to the reference (see quant_act.h).
#include <immintrin.h>

#include <cstring>

#include "kernels/quant_act/quant_act.h"
#include "tensor/fp16.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

inline float hmax(__m512 v) {
  __m256 m = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

inline int hsum_epi32(__m512i v) {
  __m256i s = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
  return _mm_cvtsi128_si32(h);
}

// roundf(p) for |p| < 2^31, as the reference's round_half_away: truncate, then step by the sign
// when the (exact) remainder reaches one half.
inline __m512i round_half_away(__m512 p) {
  const __m512i t = _mm512_cvttps_epi32(p);
  const __m512 r = _mm512_sub_ps(p, _mm512_cvtepi32_ps(t));
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i up = _mm512_mask_add_epi32(t, _mm512_cmp_ps_mask(r, _mm512_set1_ps(0.5f), _CMP_GE_OQ), t, one);
  return _mm512_mask_sub_epi32(up, _mm512_cmp_ps_mask(r, _mm512_set1_ps(-0.5f), _CMP_LE_OQ), up, one);
}

}  // namespace

void quant_act_q8_0_avx512(const float* x, int64_t n, void* blocks) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(blocks);
  for (int64_t b = 0; b < n / kQK4; ++b, x += kQK4) {
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax = hmax(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    const __m512 s = _mm512_set1_ps(id);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs), _mm512_cvtepi32_epi8(round_half_away(_mm512_mul_ps(v0, s))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16),
                     _mm512_cvtepi32_epi8(round_half_away(_mm512_mul_ps(v1, s))));
  }
}

void quant_act_q8_k_avx512(const float* x, int64_t n, void* blocks) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(blocks);
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    __m512 m = _mm512_setzero_ps();
    for (int j = 0; j < kQKK; j += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
    const float amax = hmax(m);
    if (amax == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    // the reference keeps the first element of largest magnitude, with its sign
    float max = 0.0f;
    const __m512 am = _mm512_set1_ps(amax);
    for (int j = 0; j < kQKK; j += 16) {
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), am, _CMP_EQ_OQ);
      if (hit) {
        max = x[j + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const __m512 s = _mm512_set1_ps(iscale);
    const __m512i hi = _mm512_set1_epi32(127);
    for (int j = 0; j < 16; ++j) {
      // the FPU's round-half-even (MXCSR default), as the reference's nearest_int
      const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * j), s)), hi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16 * j), _mm512_cvtepi32_epi8(q));
      y[b].bsums[j] = static_cast<int16_t>(hsum_epi32(q));
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace moeinfer
