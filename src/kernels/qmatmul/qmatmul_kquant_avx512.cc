// AVX-512 VNNI matmul for the k-quants Q4_K and Q6_K with Q8_K activations (contract in
// qmatmul.h; scalar reference: dot_qk_affine / dot_q6_k in qmatmul_ref.cc).
//
// Both formats decode a 256-element block into unsigned bytes in the activations' element order,
// 64 at a time, so that one vpdpbusd against 64 activation bytes gives int32 lanes that each
// belong to one sub-block:
//   Q4_K: 32 bytes of qs hold sub-blocks 2p (low nibbles) and 2p+1 (high nibbles): lanes 0-7 and
//         8-15; Σ_j sc_j·(q·x)_j in int32, then d·dx, minus dmin·dx·Σ_j m_j·(bsum_2j + bsum_2j+1);
//   Q6_K: ql/qh of a half-block give elements 0-63 and 64-127 of the half: lanes 4k..4k+3 are
//         16-element sub-block k; the −32 offset comes back out as 32·Σ_s sc_s·bsum_s.
// The integer sums are exact; each block is combined with its scales in the reference's order, so
// the results equal the scalar reference's. The decoded weights of a block are shared by a tile
// of up to 4 tokens.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/qmatmul/qmatmul.h"
#include "kernels/qmatmul/stream_prefetch.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

inline int hsum8_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline int hsum16_i32(__m512i v) {
  return hsum8_i32(_mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
}

inline __m512i load64(const int8_t* p) { return _mm512_loadu_si512(p); }

// Sub-block scales multiply the int32 lanes of vpdpbusd through vpmaddwd (one cheap operation
// instead of vpmulld): every lane's value fits in int16 (Q4_K: |4·15·127| = 7620, Q6_K:
// |4·63·127| = 32004), so the lane read as int16 pairs is (value, sign fill), and the scale vector
// holds (scale, 0) pairs: the sum of the two products is value·scale, exactly.

// --- Q4_K --------------------------------------------------------------------------------------

// The 6-bit scales and mins of the 8 sub-blocks (ggml's get_scale_min_k4).
inline void q4k_scales(const uint8_t* s, int32_t sc[8], int32_t m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    m[j] = s[j + 4] & 63;
  }
  for (int j = 4; j < 8; ++j) {
    sc[j] = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    m[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

template <int T>
void row_q4_k(const QMatmulArgs& a, int64_t r, int64_t t0) {
  const int64_t nb = a.cols / 256;
  const BlockQ4_K* w = reinterpret_cast<const BlockQ4_K*>(a.w + static_cast<uint64_t>(r) * a.row_bytes);
  const BlockQ8_K* x[T];
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const BlockQ8_K*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
  const __m256i nib = _mm256_set1_epi8(0x0F);
  float sum[T] = {};
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (T <= 2) prefetch_ahead(w + b, sizeof(BlockQ4_K));
    int32_t sc[8], m[8];
    q4k_scales(w[b].scales, sc, m);
    __m512i q[4], scv[4];
    for (int p = 0; p < 4; ++p) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs + 32 * p));
      q[p] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(raw, nib)),
                                _mm256_and_si256(_mm256_srli_epi16(raw, 4), nib), 1);
      scv[p] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(sc[2 * p])), _mm256_set1_epi32(sc[2 * p + 1]), 1);
    }
    const float d = _cvtsh_ss(w[b].d), dmin = _cvtsh_ss(w[b].dmin);
    // the mins against the activations' 16-element sums: m_j for bsums 2j and 2j+1
    const __m256i mdup = _mm256_set_epi16(
        static_cast<int16_t>(m[7]), static_cast<int16_t>(m[7]), static_cast<int16_t>(m[6]), static_cast<int16_t>(m[6]),
        static_cast<int16_t>(m[5]), static_cast<int16_t>(m[5]), static_cast<int16_t>(m[4]), static_cast<int16_t>(m[4]),
        static_cast<int16_t>(m[3]), static_cast<int16_t>(m[3]), static_cast<int16_t>(m[2]), static_cast<int16_t>(m[2]),
        static_cast<int16_t>(m[1]), static_cast<int16_t>(m[1]), static_cast<int16_t>(m[0]), static_cast<int16_t>(m[0]));
    for (int t = 0; t < T; ++t) {
      __m512i s = _mm512_setzero_si512();
      for (int p = 0; p < 4; ++p)
        s = _mm512_add_epi32(s, _mm512_madd_epi16(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q[p], load64(x[t][b].qs + 64 * p)), scv[p]));
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].bsums));
      const int32_t summ = hsum8_i32(_mm256_madd_epi16(bs, mdup));
      // combined per block in the reference's order (the two terms often nearly cancel)
      sum[t] += d * x[t][b].d * static_cast<float>(hsum16_i32(s)) - dmin * x[t][b].d * static_cast<float>(summ);
    }
  }
  for (int t = 0; t < T; ++t) a.y[(t0 + t) * a.ldy + r] = sum[t];
}

// --- Q6_K --------------------------------------------------------------------------------------

template <int T>
void row_q6_k(const QMatmulArgs& a, int64_t r, int64_t t0) {
  const int64_t nb = a.cols / 256;
  const BlockQ6_K* w = reinterpret_cast<const BlockQ6_K*>(a.w + static_cast<uint64_t>(r) * a.row_bytes);
  const BlockQ8_K* x[T];
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const BlockQ8_K*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  const __m512i rep4 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  float sum[T] = {};
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (T <= 2) prefetch_ahead(w + b, sizeof(BlockQ6_K));
    // q[2h + u]: elements 128h + 64u .. +63 as unsigned 6-bit values
    __m512i q[4], scv[4];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w[b].ql + 64 * h;
      const uint8_t* qh = w[b].qh + 32 * h;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
      const __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
      const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
      const __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
      q[2 * h] = _mm512_inserti64x4(_mm512_castsi256_si512(q1), q2, 1);
      q[2 * h + 1] = _mm512_inserti64x4(_mm512_castsi256_si512(q3), q4, 1);
    }
    const __m512i sc16 = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].scales)));
    for (int u = 0; u < 4; ++u)  // as int16 pairs (scale, 0) for vpmaddwd: see madd_scale above
      scv[u] = _mm512_and_si512(_mm512_permutexvar_epi32(_mm512_add_epi32(rep4, _mm512_set1_epi32(4 * u)), sc16),
                                _mm512_set1_epi32(0xFFFF));
    const __m256i sc16w = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].scales)));
    const float d = _cvtsh_ss(w[b].d);
    for (int t = 0; t < T; ++t) {
      __m512i s = _mm512_setzero_si512();
      for (int u = 0; u < 4; ++u)
        s = _mm512_add_epi32(s, _mm512_madd_epi16(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q[u], load64(x[t][b].qs + 64 * u)), scv[u]));
      // Σ_s sc_s·bsum_s: the activations' share of the −32 offset
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t][b].bsums));
      const int32_t off = 32 * hsum8_i32(_mm256_madd_epi16(bs, sc16w));
      sum[t] += d * x[t][b].d * static_cast<float>(hsum16_i32(s) - off);  // as the reference, exactly
    }
  }
  for (int t = 0; t < T; ++t) a.y[(t0 + t) * a.ldy + r] = sum[t];
}

template <template <int> class Row>
void kquant_matmul(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  constexpr int64_t kChunk = 32;  // tokens whose activations stay in L2 while the rows stream
  for (int64_t c0 = 0; c0 < a.n_tok; c0 += kChunk) {
    const int64_t c1 = std::min(a.n_tok, c0 + kChunk);
    for (int64_t r = r0; r < r1; ++r) {
      int64_t t = c0;
      for (; t + 4 <= c1; t += 4) Row<4>::run(a, r, t);
      switch (c1 - t) {
        case 3: Row<3>::run(a, r, t); break;
        case 2: Row<2>::run(a, r, t); break;
        case 1: Row<1>::run(a, r, t); break;
        default: break;
      }
    }
  }
}

template <int T>
struct Q4KRow {
  static void run(const QMatmulArgs& a, int64_t r, int64_t t) { row_q4_k<T>(a, r, t); }
};
template <int T>
struct Q6KRow {
  static void run(const QMatmulArgs& a, int64_t r, int64_t t) { row_q6_k<T>(a, r, t); }
};

}  // namespace

QMatmulFn qmatmul_kquant_avx512(DType t) {
  switch (t) {
    case DType::kQ4_K: return &kquant_matmul<Q4KRow>;
    case DType::kQ6_K: return &kquant_matmul<Q6KRow>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
