// AVX-512 versions of vec.h (16 partial sums; the tail through a masked load).
#include <immintrin.h>

#include "kernels/vec/vec.h"

namespace moeinfer {

float dot_f32_avx512(const float* a, const float* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
  }
  const __m512 acc = _mm512_add_ps(acc0, acc1);
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

void axpy_f32_avx512(float alpha, const float* x, float* y, int64_t n) {
  const __m512 av = _mm512_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// 16 keys side by side (the tail masked); per key the products are added in order of i (fused
// multiply-adds: the reference's sums up to rounding).
void scores_kt_avx512(const float* q, const float* kt, int64_t ld, int64_t n, int64_t d, float scale, float* out) {
  const __m512 sc = _mm512_set1_ps(scale);
  int64_t p = 0;
  for (; p + 32 <= n; p += 32) {  // two independent chains hide the add latency
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; ++i) {
      const __m512 qi = _mm512_set1_ps(q[i]);
      s0 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(kt + i * ld + p), s0);
      s1 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(kt + i * ld + p + 16), s1);
    }
    _mm512_storeu_ps(out + p, _mm512_mul_ps(s0, sc));
    _mm512_storeu_ps(out + p + 16, _mm512_mul_ps(s1, sc));
  }
  for (; p < n; p += 16) {
    const __mmask16 m = n - p >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - p)) - 1);
    __m512 s = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; ++i)
      s = _mm512_fmadd_ps(_mm512_set1_ps(q[i]), _mm512_maskz_loadu_ps(m, kt + i * ld + p), s);
    _mm512_mask_storeu_ps(out + p, m, _mm512_mul_ps(s, sc));
  }
}

// out stays in up to 8 registers (d ≤ 128) while the rows stream past; wider rows go 128 columns
// at a time.
void wsum_rows_avx512(const float* w, const float* v, int64_t ld, int64_t n, int64_t d, float* out) {
  for (int64_t c0 = 0; c0 < d; c0 += 128) {
    const int64_t width = d - c0 < 128 ? d - c0 : 128;
    const int nv = static_cast<int>((width + 15) / 16);
    const __mmask16 last = (width % 16) == 0 ? static_cast<__mmask16>(0xFFFF)
                                             : static_cast<__mmask16>((1u << (width % 16)) - 1);
    __m512 acc[8];
    for (int k = 0; k < nv; ++k)
      acc[k] = _mm512_maskz_loadu_ps(k == nv - 1 ? last : static_cast<__mmask16>(0xFFFF), out + c0 + 16 * k);
    for (int64_t p = 0; p < n; ++p) {
      const __m512 wp = _mm512_set1_ps(w[p]);
      const float* row = v + p * ld + c0;
      for (int k = 0; k < nv; ++k)
        acc[k] = _mm512_fmadd_ps(wp, _mm512_maskz_loadu_ps(k == nv - 1 ? last : static_cast<__mmask16>(0xFFFF), row + 16 * k),
                                 acc[k]);
    }
    for (int k = 0; k < nv; ++k)
      _mm512_mask_storeu_ps(out + c0 + 16 * k, k == nv - 1 ? last : static_cast<__mmask16>(0xFFFF), acc[k]);
  }
}

}  // namespace moeinfer
