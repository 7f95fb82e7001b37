// AVX2 quantized matmul (contract in qmatmul.h). Q8_0-activation formats: 32-element blocks,
// unpacked to int8 and multiplied with maddubs/madd. k-quants (Q8_K activations): 4/5/6-bit
// values unpacked to unsigned bytes, maddubs with the int8 activations, int32 sub-block sums
// scaled by the 6-/8-bit scales; mins and Q6_K's -32 offset come from Q8_K's bsums. F16 scales
// convert with F16C (part of this level), exactly as the scalar conversion does.
#include <immintrin.h>

#include <cstring>

#include "kernels/qmatmul/qmatmul.h"
#include "kernels/qmatmul/stream_prefetch.h"
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
  const bool stream = a.n_tok <= 2;  // decode: prefetch the row a page ahead (stream_prefetch.h)
  for (int64_t r = r0; r < r1; ++r) {
    const Block* w = reinterpret_cast<const Block*>(a.w + static_cast<uint64_t>(r) * a.row_bytes);
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const BlockQ8_0* x = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
      __m256 acc = _mm256_setzero_ps();
      for (int64_t b = 0; b < nb; ++b) {
        if (stream && t == 0) prefetch_ahead(w + b, sizeof(Block));
        const __m256i p = dot32(kUnpack(w[b]), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs)));
        const float d = _cvtsh_ss(w[b].d) * _cvtsh_ss(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
      }
      a.y[t * a.ldy + r] = hsum8(acc);
    }
  }
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// Σ u[i]·y[i] over 32 pairs (u unsigned 0..63, y int8) as 8 int32 lanes, lane i = elements 4i..4i+3.
inline __m256i udot32(__m256i u, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
}

// Q4_K / Q5_K · Q8_K: per block Σ_j sc_j·(q·y)_j · d·dy − dmin·dy·Σ_j m_j·(Σ y)_j.
template <bool kFive>
float dot_qk_affine(int64_t n, const uint8_t* wv, const uint8_t* xv) {
  const BlockQ8_K* x = reinterpret_cast<const BlockQ8_K*>(xv);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const uint8_t *scales, *qs, *qh = nullptr;
    uint16_t dh, dminh;
    if constexpr (kFive) {
      const BlockQ5_K& w = reinterpret_cast<const BlockQ5_K*>(wv)[b];
      scales = w.scales, qs = w.qs, qh = w.qh, dh = w.d, dminh = w.dmin;
    } else {
      const BlockQ4_K& w = reinterpret_cast<const BlockQ4_K*>(wv)[b];
      scales = w.scales, qs = w.qs, dh = w.d, dminh = w.dmin;
    }
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; ++j) get_scale_min_k4(j, scales, &sc[j], &m[j]);
    __m256i acc = _mm256_setzero_si256();
    const __m256i qhv = kFive ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh)) : _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * k));
      __m256i lo = _mm256_and_si256(q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      if constexpr (kFive) {
        const __m256i bit = _mm256_set1_epi8(0x10);
        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qhv, 2 * k), 4), bit));
        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(qhv, 2 * k + 1), 4), bit));
      }
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 64 * k));
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 64 * k + 32));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(udot32(lo, y0), _mm256_set1_epi32(sc[2 * k])));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(udot32(hi, y1), _mm256_set1_epi32(sc[2 * k + 1])));
    }
    int summ = 0;
    for (int j = 0; j < 8; ++j) summ += m[j] * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
    sum += _cvtsh_ss(dh) * x[b].d * hsum_i32(acc) - _cvtsh_ss(dminh) * x[b].d * summ;
  }
  return sum;
}

// Q6_K · Q8_K: q = u - 32 with u 6-bit unsigned; Σ sc·(u·y) − 32·Σ sc·(Σ y) per sub-block of 16.
float dot_q6_k(int64_t n, const uint8_t* wv, const uint8_t* xv) {
  const BlockQ6_K* w = reinterpret_cast<const BlockQ6_K*>(wv);
  const BlockQ8_K* x = reinterpret_cast<const BlockQ8_K*>(xv);
  const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x30);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    __m256i acc = _mm256_setzero_si256();
    int bias = 0;
    for (int s = 0; s < 16; ++s) bias += w[b].scales[s] * x[b].bsums[s];
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = w[b].ql + 64 * half;
      const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qh + 32 * half));
      const __m256i u[4] = {
          _mm256_or_si256(_mm256_and_si256(qa, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), two)),
          _mm256_or_si256(_mm256_and_si256(qb, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), two)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qa, 4), low4), _mm256_and_si256(qh, two)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 4), low4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), two)),
      };
      const int8_t* sc = w[b].scales + 8 * half;
      for (int i = 0; i < 4; ++i) {
        const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 128 * half + 32 * i));
        const __m256i scv = _mm256_setr_epi32(sc[2 * i], sc[2 * i], sc[2 * i], sc[2 * i], sc[2 * i + 1], sc[2 * i + 1],
                                              sc[2 * i + 1], sc[2 * i + 1]);
        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(udot32(u[i], y), scv));
      }
    }
    sum += _cvtsh_ss(w[b].d) * x[b].d * (hsum_i32(acc) - 32 * bias);
  }
  return sum;
}

template <float (*kDot)(int64_t, const uint8_t*, const uint8_t*)>
void qmatmul_kquant(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    if (a.n_tok <= 2) prefetch_ahead(row, a.row_bytes);  // decode: the row one page ahead
    for (int64_t t = 0; t < a.n_tok; ++t)
      a.y[t * a.ldy + r] = kDot(a.cols, row, a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
  }
}

}  // namespace

QMatmulFn qmatmul_avx2(DType t) {
  switch (t) {
    case DType::kQ8_0: return qmatmul_q8act<BlockQ8_0, unpack_q8_0>;
    case DType::kQ4_0: return qmatmul_q8act<BlockQ4_0, unpack_q4_0>;
    case DType::kQ5_0: return qmatmul_q8act<BlockQ5_0, unpack_q5_0>;
    case DType::kQ4_K: return qmatmul_kquant<dot_qk_affine<false>>;
    case DType::kQ5_K: return qmatmul_kquant<dot_qk_affine<true>>;
    case DType::kQ6_K: return qmatmul_kquant<dot_q6_k>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
