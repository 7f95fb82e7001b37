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

namespace {

inline __mmask16 lanes(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : left <= 0 ? 0 : static_cast<__mmask16>((1u << left) - 1);
}

// R query rows × 32 keys (two vectors, masked at the tail): per element i one pair of key loads
// feeds 2·R fused multiply-adds.
template <int R>
void scores_tile(const float* q, int64_t ldq, const float* kt, int64_t ldk, int64_t p, int64_t n, int64_t d,
                 __m512 sc, float* out, int64_t ldo) {
  const __mmask16 m0 = lanes(n - p), m1 = lanes(n - p - 16);
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t i = 0; i < d; ++i) {
    const __m512 k0 = _mm512_maskz_loadu_ps(m0, kt + i * ldk + p);
    const __m512 k1 = _mm512_maskz_loadu_ps(m1, kt + i * ldk + p + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 qi = _mm512_set1_ps(q[r * ldq + i]);
      acc[r][0] = _mm512_fmadd_ps(qi, k0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(qi, k1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(out + r * ldo + p, m0, _mm512_mul_ps(acc[r][0], sc));
    _mm512_mask_storeu_ps(out + r * ldo + p + 16, m1, _mm512_mul_ps(acc[r][1], sc));
  }
}

// R weight rows × up to 64 columns of out (four vectors) in registers; per value row, four loads
// feed 4·R fused multiply-adds.
template <int R>
void wsum_tile(const float* w, int64_t ldw, const float* v, int64_t ldv, int64_t n, int64_t c0, int64_t d, float* out,
               int64_t ldo) {
  const __mmask16 m[4] = {lanes(d - c0), lanes(d - c0 - 16), lanes(d - c0 - 32), lanes(d - c0 - 48)};
  __m512 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < 4; ++k) acc[r][k] = _mm512_maskz_loadu_ps(m[k], out + r * ldo + c0 + 16 * k);
  for (int64_t p = 0; p < n; ++p) {
    const float* row = v + p * ldv + c0;
    __m512 x[4];
    for (int k = 0; k < 4; ++k) x[k] = _mm512_maskz_loadu_ps(m[k], row + 16 * k);
    for (int r = 0; r < R; ++r) {
      const __m512 wp = _mm512_set1_ps(w[r * ldw + p]);
      for (int k = 0; k < 4; ++k) acc[r][k] = _mm512_fmadd_ps(wp, x[k], acc[r][k]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < 4; ++k) _mm512_mask_storeu_ps(out + r * ldo + c0 + 16 * k, m[k], acc[r][k]);
}

}  // namespace

// Products per (row, key) are added in order of i (fused multiply-adds: the reference's sums up to
// rounding).
void scores_kt_avx512(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t n, int64_t d,
                      float scale, float* out, int64_t ldo) {
  const __m512 sc = _mm512_set1_ps(scale);
  for (int64_t p = 0; p < n; p += 32) {
    int64_t r = 0;
    for (; r + 8 <= rows; r += 8) scores_tile<8>(q + r * ldq, ldq, kt, ldk, p, n, d, sc, out + r * ldo, ldo);
    if (r + 4 <= rows) scores_tile<4>(q + r * ldq, ldq, kt, ldk, p, n, d, sc, out + r * ldo, ldo), r += 4;
    for (; r < rows; ++r) scores_tile<1>(q + r * ldq, ldq, kt, ldk, p, n, d, sc, out + r * ldo, ldo);
  }
}

void wsum_rows_avx512(const float* w, int64_t ldw, int64_t rows, const float* v, int64_t ldv, int64_t n, int64_t d,
                      float* out, int64_t ldo) {
  for (int64_t c0 = 0; c0 < d; c0 += 64) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) wsum_tile<4>(w + r * ldw, ldw, v, ldv, n, c0, d, out + r * ldo, ldo);
    for (; r < rows; ++r) wsum_tile<1>(w + r * ldw, ldw, v, ldv, n, c0, d, out + r * ldo, ldo);
  }
}

}  // namespace moeinfer
