// AVX-512 matmul for float weights (contract in matmul.h). Four rows of W share each 16-wide x
// load; the tail (cols % 16) uses masked loads, so no scalar loop is needed.
#include <immintrin.h>

#include "kernels/matmul/matmul.h"

namespace moeinfer {

namespace {

// Horizontal sum (GCC 12's _mm512_reduce_add_ps and extract intrinsics trip -Wmaybe-uninitialized).
inline float hsum512(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  float s0 = 0.0f, s1 = 0.0f;
  for (int i = 0; i < 16; i += 2) {
    s0 += t[i];
    s1 += t[i + 1];
  }
  return s0 + s1;
}

struct F32 {
  static __m512 load(const uint8_t* row, int64_t i, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + i);
  }
};
struct F16 {
  static __m512 load(const uint8_t* row, int64_t i, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * i));
  }
};
struct BF16 {
  static __m512 load(const uint8_t* row, int64_t i, __mmask16 m) {
    __m256i h = _mm256_maskz_loadu_epi16(m, row + 2 * i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

template <typename T>
void matmul_t(const MatmulArgs& a, int64_t r0, int64_t r1) {
  const int64_t n16 = a.cols & ~int64_t{15};
  const __mmask16 full = 0xffff;
  const __mmask16 tail = static_cast<__mmask16>((1u << (a.cols - n16)) - 1);
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const uint8_t* w0 = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    const uint8_t* w1 = w0 + a.row_bytes;
    const uint8_t* w2 = w1 + a.row_bytes;
    const uint8_t* w3 = w2 + a.row_bytes;
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const float* x = a.x + t * a.cols;
      __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (int64_t i = 0; i < n16; i += 16) {
        __m512 xv = _mm512_loadu_ps(x + i);
        s0 = _mm512_fmadd_ps(T::load(w0, i, full), xv, s0);
        s1 = _mm512_fmadd_ps(T::load(w1, i, full), xv, s1);
        s2 = _mm512_fmadd_ps(T::load(w2, i, full), xv, s2);
        s3 = _mm512_fmadd_ps(T::load(w3, i, full), xv, s3);
      }
      if (tail) {
        __m512 xv = _mm512_maskz_loadu_ps(tail, x + n16);
        s0 = _mm512_fmadd_ps(T::load(w0, n16, tail), xv, s0);
        s1 = _mm512_fmadd_ps(T::load(w1, n16, tail), xv, s1);
        s2 = _mm512_fmadd_ps(T::load(w2, n16, tail), xv, s2);
        s3 = _mm512_fmadd_ps(T::load(w3, n16, tail), xv, s3);
      }
      float* y = a.y + t * a.ldy + r;
      y[0] = hsum512(s0);
      y[1] = hsum512(s1);
      y[2] = hsum512(s2);
      y[3] = hsum512(s3);
    }
  }
  for (; r < r1; ++r) {
    const uint8_t* w0 = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const float* x = a.x + t * a.cols;
      __m512 s0 = _mm512_setzero_ps();
      for (int64_t i = 0; i < n16; i += 16) s0 = _mm512_fmadd_ps(T::load(w0, i, full), _mm512_loadu_ps(x + i), s0);
      if (tail) s0 = _mm512_fmadd_ps(T::load(w0, n16, tail), _mm512_maskz_loadu_ps(tail, x + n16), s0);
      a.y[t * a.ldy + r] = hsum512(s0);
    }
  }
}

// FP8 E4M3 -> F32 without a table: (b & 0x7f) << 7 is the F16 with the same exponent and
// mantissa bits, whose value is the E4M3 value / 256 (exponent bias 15 vs 7, and E4M3 subnormals
// land on F16 subnormals the same way); the sign moves to bit 15. So f32 = cvtph(...) · 256.
inline __m512 fp8x16_to_f32(const uint8_t* p, __mmask16 m) {
  const __m256i b = _mm256_cvtepu8_epi16(_mm_maskz_loadu_epi8(m, p));
  const __m256i h = _mm256_or_si256(_mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi16(0x7f)), 7),
                                    _mm256_slli_epi16(_mm256_and_si256(b, _mm256_set1_epi16(0x80)), 8));
  return _mm512_mul_ps(_mm512_cvtph_ps(h), _mm512_set1_ps(256.0f));
}

// Block-scaled FP8: within a column block the scale is constant, so each block's partial dot is
// scaled once. block_cols that is not a multiple of 16 falls back to the reference (nullptr path
// is not possible here, so such blocks use a masked tail per block).
void matmul_f8(const MatmulArgs& a, int64_t r0, int64_t r1) {
  const int64_t bc = a.block_cols;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    const float* srow = a.scale + ((r + a.scale_row0) / a.block_rows) * a.scale_cols;
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const float* x = a.x + t * a.cols;
      __m512 total = _mm512_setzero_ps();
      for (int64_t c0 = 0, cb = 0; c0 < a.cols; c0 += bc, ++cb) {
        const int64_t c1 = c0 + bc < a.cols ? c0 + bc : a.cols;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t i = c0; i < c1; i += 16) {
          const int64_t left = c1 - i;
          const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
          acc = _mm512_fmadd_ps(fp8x16_to_f32(row + i, m), _mm512_maskz_loadu_ps(m, x + i), acc);
        }
        total = _mm512_fmadd_ps(acc, _mm512_set1_ps(srow[cb]), total);
      }
      a.y[t * a.ldy + r] = hsum512(total);
    }
  }
}

}  // namespace

MatmulFn matmul_avx512(DType t) {
  switch (t) {
    case DType::kF32: return matmul_t<F32>;
    case DType::kF16: return matmul_t<F16>;
    case DType::kBF16: return matmul_t<BF16>;
    case DType::kF8_E4M3: return matmul_f8;
    default: return nullptr;
  }
}

}  // namespace moeinfer
