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

namespace {

// R query rows × 16 keys; the last keys (fewer than 16) go through the reference.
template <int R>
void scores_tile(const float* q, int64_t ldq, const float* kt, int64_t ldk, int64_t p, int64_t d, __m256 sc,
                 float* out, int64_t ldo) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t i = 0; i < d; ++i) {
    const __m256 k0 = _mm256_loadu_ps(kt + i * ldk + p), k1 = _mm256_loadu_ps(kt + i * ldk + p + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 qi = _mm256_set1_ps(q[r * ldq + i]);
      acc[r][0] = _mm256_fmadd_ps(qi, k0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(qi, k1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(out + r * ldo + p, _mm256_mul_ps(acc[r][0], sc));
    _mm256_storeu_ps(out + r * ldo + p + 8, _mm256_mul_ps(acc[r][1], sc));
  }
}

// R weight rows × 16 columns of out in registers; the last columns through the reference.
template <int R>
void wsum_tile(const float* w, int64_t ldw, const float* v, int64_t ldv, int64_t n, int64_t c0, float* out,
               int64_t ldo) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < 2; ++k) acc[r][k] = _mm256_loadu_ps(out + r * ldo + c0 + 8 * k);
  for (int64_t p = 0; p < n; ++p) {
    const __m256 x0 = _mm256_loadu_ps(v + p * ldv + c0), x1 = _mm256_loadu_ps(v + p * ldv + c0 + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 wp = _mm256_set1_ps(w[r * ldw + p]);
      acc[r][0] = _mm256_fmadd_ps(wp, x0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(wp, x1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < 2; ++k) _mm256_storeu_ps(out + r * ldo + c0 + 8 * k, acc[r][k]);
}

}  // namespace

// Per (row, key) the products are added in order of i (fused multiply-adds).
void scores_kt_avx2(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t n, int64_t d,
                    float scale, float* out, int64_t ldo) {
  const __m256 sc = _mm256_set1_ps(scale);
  int64_t p = 0;
  for (; p + 16 <= n; p += 16) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) scores_tile<4>(q + r * ldq, ldq, kt, ldk, p, d, sc, out + r * ldo, ldo);
    for (; r < rows; ++r) scores_tile<1>(q + r * ldq, ldq, kt, ldk, p, d, sc, out + r * ldo, ldo);
  }
  if (p < n) scores_kt_ref(q, ldq, rows, kt + p, ldk, n - p, d, scale, out + p, ldo);
}

void wsum_rows_avx2(const float* w, int64_t ldw, int64_t rows, const float* v, int64_t ldv, int64_t n, int64_t d,
                    float* out, int64_t ldo) {
  int64_t c0 = 0;
  for (; c0 + 16 <= d; c0 += 16) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) wsum_tile<4>(w + r * ldw, ldw, v, ldv, n, c0, out + r * ldo, ldo);
    for (; r < rows; ++r) wsum_tile<1>(w + r * ldw, ldw, v, ldv, n, c0, out + r * ldo, ldo);
  }
  if (c0 < d) wsum_rows_ref(w, ldw, rows, v + c0, ldv, n, d - c0, out + c0, ldo);
}

}  // namespace moeinfer
