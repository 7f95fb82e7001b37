// AVX2 + FMA versions of vec.h (8 partial sums; the tail in order).
#include <immintrin.h>

#include "kernels/vec/vec.h"

namespace moeinfer {

float dot_f32_avx2(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  float s = _mm_cvtss_f32(q);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_f32_avx2(float alpha, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// 8 keys side by side; per key the products are added in order of i (fused multiply-adds).
void scores_kt_avx2(const float* q, const float* kt, int64_t ld, int64_t n, int64_t d, float scale, float* out) {
  int64_t p = 0;
  for (; p + 8 <= n; p += 8) {
    __m256 s = _mm256_setzero_ps();
    for (int64_t i = 0; i < d; ++i) s = _mm256_fmadd_ps(_mm256_set1_ps(q[i]), _mm256_loadu_ps(kt + i * ld + p), s);
    _mm256_storeu_ps(out + p, _mm256_mul_ps(s, _mm256_set1_ps(scale)));
  }
  if (p < n) scores_kt_ref(q, kt + p, ld, n - p, d, scale, out + p);
}

}  // namespace moeinfer
