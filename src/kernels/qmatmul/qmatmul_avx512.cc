// AVX-512 VNNI quantized matmul for the Q8_0-activation formats Q8_0 and Q4_0 (contract in
// qmatmul.h); Q4_K and Q6_K are in qmatmul_kquant_avx512.cc, Q5_0 and Q5_K fall back to AVX2.
//
// vpdpbusd multiplies unsigned by signed bytes, so one side of each product is made unsigned and
// the offset is taken back out per block:
//   Q8_0: x + 128 (an XOR per activation byte) times the signed weights:
//         Σ x·w = Σ (x + 128)·w − 128·Σ w, with 128·Σ w = vpdpbusd(128, w) once per weight block;
//   Q4_0: the nibbles q ∈ [0, 16) are already unsigned: Σ (q − 8)·x = Σ q·x − vpdpbusd(8, x), the
//         second term once per activation block.
// A zmm holds two 32-element blocks; its int32 lanes are scaled by d_w·d_x of their block and
// accumulated in F32, as the scalar reference does per block (summation order differs).
// A tile of R rows × T tokens (R, T ≤ 4) shares the weight and activation loads of each block
// pair; tokens are taken in chunks so that a chunk's activations stay in L2 while the rows stream.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/qmatmul/qmatmul.h"
#include "kernels/qmatmul/stream_prefetch.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

inline float f16(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum16(__m512 v) {
  const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// Two adjacent 32-byte blocks (or one, upper half zero) as one zmm.
inline __m512i pair(const int8_t* a, const int8_t* b) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  if (!b) return _mm512_zextsi256_si512(lo);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 1);
}

// Per-lane scale of a block pair: lanes of the first block get s0, of the second s1.
inline __m512 pair_scale(__mmask16 second, float s0, float s1) {
  return _mm512_mask_blend_ps(second, _mm512_set1_ps(s0), _mm512_set1_ps(s1));
}

// --- Q8_0 weights ---------------------------------------------------------------------------
// Lanes 0-7 = block b, 8-15 = block b + 1.
template <int R, int T>
void tile_q8_0(const QMatmulArgs& a, int64_t r0, int64_t t0) {
  const int64_t nb = a.cols / 32;
  const __mmask16 second = 0xFF00;
  const __m512i k128 = _mm512_set1_epi8(static_cast<char>(0x80));
  const BlockQ8_0* w[R];
  const BlockQ8_0* x[T];
  for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ8_0*>(a.w + static_cast<uint64_t>(r0 + r) * a.row_bytes);
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b += 2) {
    const bool two = b + 1 < nb;
    __m512i xu[T];
    __m512 dx[T];
    for (int t = 0; t < T; ++t) {
      xu[t] = _mm512_xor_si512(pair(x[t][b].qs, two ? x[t][b + 1].qs : nullptr), k128);
      dx[t] = pair_scale(second, f16(x[t][b].d), two ? f16(x[t][b + 1].d) : 0.0f);
    }
    for (int r = 0; r < R; ++r) {
      if constexpr (T <= 2) prefetch_ahead(w[r] + b, 2 * sizeof(BlockQ8_0));
      const __m512i wv = pair(w[r][b].qs, two ? w[r][b + 1].qs : nullptr);
      const __m512i corr = _mm512_dpbusd_epi32(_mm512_setzero_si512(), k128, wv);  // 128·Σw per lane
      const __m512 dw = pair_scale(second, f16(w[r][b].d), two ? f16(w[r][b + 1].d) : 0.0f);
      for (int t = 0; t < T; ++t) {
        const __m512i s = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), xu[t], wv), corr);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, dx[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) a.y[(t0 + t) * a.ldy + r0 + r] = hsum16(acc[r][t]);
}

// --- Q4_0 weights ---------------------------------------------------------------------------
// The nibbles of a block pair: qs of blocks b and b + 1 side by side (bytes 0-15, 16-31), then the
// same shifted right by 4, masked to 4 bits. 128-bit lane k of the zmm holds elements
//   k = 0: block b 0-15, 1: block b+1 0-15, 2: block b 16-31, 3: block b+1 16-31,
// so the activations are loaded in that order and lanes 4-7 and 12-15 belong to block b + 1.
inline __m512i q4_pair(const BlockQ4_0* w, int64_t b, bool two) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].qs));
  const __m128i hi = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b + 1].qs)) : _mm_setzero_si128();
  const __m256i q = _mm256_set_m128i(hi, lo);
  const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
  return _mm512_and_si512(both, _mm512_set1_epi8(0x0F));
}

inline __m512i q4_x_pair(const BlockQ8_0* x, int64_t b, bool two) {
  const __m128i a0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs));
  const __m128i a1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs + 16));
  const __m128i b0 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b + 1].qs)) : _mm_setzero_si128();
  const __m128i b1 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b + 1].qs + 16)) : _mm_setzero_si128();
  const __m256i lo = _mm256_set_m128i(b0, a0), hi = _mm256_set_m128i(b1, a1);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

template <int R, int T>
void tile_q4_0(const QMatmulArgs& a, int64_t r0, int64_t t0) {
  const int64_t nb = a.cols / 32;
  const __mmask16 second = 0xF0F0;
  const __m512i k8 = _mm512_set1_epi8(8);
  const BlockQ4_0* w[R];
  const BlockQ8_0* x[T];
  for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ4_0*>(a.w + static_cast<uint64_t>(r0 + r) * a.row_bytes);
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b += 2) {
    const bool two = b + 1 < nb;
    __m512i xs[T], corr[T];
    __m512 dx[T];
    for (int t = 0; t < T; ++t) {
      xs[t] = q4_x_pair(x[t], b, two);
      corr[t] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), k8, xs[t]);  // 8·Σx per lane
      dx[t] = pair_scale(second, f16(x[t][b].d), two ? f16(x[t][b + 1].d) : 0.0f);
    }
    for (int r = 0; r < R; ++r) {
      if constexpr (T <= 2) prefetch_ahead(w[r] + b, 2 * sizeof(BlockQ4_0));
      const __m512i wv = q4_pair(w[r], b, two);
      const __m512 dw = pair_scale(second, f16(w[r][b].d), two ? f16(w[r][b + 1].d) : 0.0f);
      for (int t = 0; t < T; ++t) {
        const __m512i s = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, xs[t]), corr[t]);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, dx[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) a.y[(t0 + t) * a.ldy + r0 + r] = hsum16(acc[r][t]);
}

// --- tiling ---------------------------------------------------------------------------------

template <template <int, int> class Tile>
struct Tiler {
  template <int R>
  static void tokens(const QMatmulArgs& a, int64_t r, int64_t t0, int64_t t1) {
    int64_t t = t0;
    for (; t + 4 <= t1; t += 4) Tile<R, 4>::run(a, r, t);
    switch (t1 - t) {
      case 3: Tile<R, 3>::run(a, r, t); break;
      case 2: Tile<R, 2>::run(a, r, t); break;
      case 1: Tile<R, 1>::run(a, r, t); break;
      default: break;
    }
  }
  static void run(const QMatmulArgs& a, int64_t r0, int64_t r1) {
    constexpr int64_t kChunk = 64;  // tokens whose activations stay cached while the rows stream
    for (int64_t c0 = 0; c0 < a.n_tok; c0 += kChunk) {
      const int64_t c1 = std::min(a.n_tok, c0 + kChunk);
      int64_t r = r0;
      for (; r + 4 <= r1; r += 4) tokens<4>(a, r, c0, c1);
      switch (r1 - r) {
        case 3: tokens<3>(a, r, c0, c1); break;
        case 2: tokens<2>(a, r, c0, c1); break;
        case 1: tokens<1>(a, r, c0, c1); break;
        default: break;
      }
    }
  }
};

template <int R, int T>
struct Q8Tile {
  static void run(const QMatmulArgs& a, int64_t r, int64_t t) { tile_q8_0<R, T>(a, r, t); }
};
template <int R, int T>
struct Q4Tile {
  static void run(const QMatmulArgs& a, int64_t r, int64_t t) { tile_q4_0<R, T>(a, r, t); }
};

}  // namespace

QMatmulFn qmatmul_avx512(DType t) {
  switch (t) {
    case DType::kQ8_0: return &Tiler<Q8Tile>::run;
    case DType::kQ4_0: return &Tiler<Q4Tile>::run;
    default: return qmatmul_kquant_avx512(t);
  }
}

}  // namespace moeinfer
