// AVX2/FMA/F16C matmul for float weights (contract in matmul.h). Four rows of W are processed
// together so each x vector load feeds four FMAs; tails shorter than 8 use a scalar loop.
#include <immintrin.h>

#include <cstring>

#include "kernels/matmul/matmul.h"
#include "tensor/fp16.h"

namespace moeinfer {

namespace {

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

struct F32 {
  static __m256 load8(const uint8_t* row, int64_t i) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i); }
  static float load1(const uint8_t* row, int64_t i) {
    float v;
    std::memcpy(&v, row + 4 * i, 4);
    return v;
  }
};
struct F16 {
  static __m256 load8(const uint8_t* row, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
  }
  static float load1(const uint8_t* row, int64_t i) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    return f16_to_f32(h);
  }
};
struct BF16 {
  static __m256 load8(const uint8_t* row, int64_t i) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float load1(const uint8_t* row, int64_t i) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    return bf16_to_f32(h);
  }
};

template <typename T>
void matmul_t(const MatmulArgs& a, int64_t r0, int64_t r1) {
  const int64_t n8 = a.cols & ~int64_t{7};
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const uint8_t* w0 = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    const uint8_t* w1 = w0 + a.row_bytes;
    const uint8_t* w2 = w1 + a.row_bytes;
    const uint8_t* w3 = w2 + a.row_bytes;
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const float* x = a.x + t * a.cols;
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (int64_t i = 0; i < n8; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
        s0 = _mm256_fmadd_ps(T::load8(w0, i), xv, s0);
        s1 = _mm256_fmadd_ps(T::load8(w1, i), xv, s1);
        s2 = _mm256_fmadd_ps(T::load8(w2, i), xv, s2);
        s3 = _mm256_fmadd_ps(T::load8(w3, i), xv, s3);
      }
      float f0 = hsum(s0), f1 = hsum(s1), f2 = hsum(s2), f3 = hsum(s3);
      for (int64_t i = n8; i < a.cols; ++i) {
        f0 += T::load1(w0, i) * x[i];
        f1 += T::load1(w1, i) * x[i];
        f2 += T::load1(w2, i) * x[i];
        f3 += T::load1(w3, i) * x[i];
      }
      float* y = a.y + t * a.ldy + r;
      y[0] = f0;
      y[1] = f1;
      y[2] = f2;
      y[3] = f3;
    }
  }
  for (; r < r1; ++r) {
    const uint8_t* w0 = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const float* x = a.x + t * a.cols;
      __m256 s0 = _mm256_setzero_ps();
      for (int64_t i = 0; i < n8; i += 8) s0 = _mm256_fmadd_ps(T::load8(w0, i), _mm256_loadu_ps(x + i), s0);
      float f0 = hsum(s0);
      for (int64_t i = n8; i < a.cols; ++i) f0 += T::load1(w0, i) * x[i];
      a.y[t * a.ldy + r] = f0;
    }
  }
}

}  // namespace

MatmulFn matmul_avx2(DType t) {
  switch (t) {
    case DType::kF32: return matmul_t<F32>;
    case DType::kF16: return matmul_t<F16>;
    case DType::kBF16: return matmul_t<BF16>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
