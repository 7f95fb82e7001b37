// AVX-512 VNNI matmul of Q4_K and Q6_K weights in the interleaved kRows8 layout (tensor/repack.h)
// with Q8_K activations; scalar reference: qmatmul_r8_ref.cc (unpack + the plain reference).
//
// Q6_K: per 16-element sub-block two vpdpbusd of the 6-bit values (unsigned, two shifts and masks
// from the nibble chunk and its high bits) start from −32·bsum in the even lane of each row, so the
// pair holds Σ(q − 32)·x; vpmulld by the row's int8 scale and a sum give the super-block's integer,
// which d·dx scales as the reference does.
//
// Q4_K:
// Per group of 8 rows and super-block (256 elements) the 64 scales and 64 mins are decoded with a
// few vector operations. For each 32-element sub-block j, four vpdpbusd against 64-bit broadcasts
// of the activations give per lane pair (2r, 2r+1) the row's integer dot product s_j (|s_j| ≤
// 16·15·128, an int16), which vpmaddwd multiplies by the row's scale (the int32 lane read as
// the pair (s_j, sign), the scale as (sc, 0)); the mins meet the activations' 32-element sums the
// same way in the even lanes only. Per super-block the two integer sums become floats:
//   acc += d·dx·Σ sc_j·s_j − dmin·dx·Σ m_j·bsum_j.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/qmatmul/qmatmul.h"
#include "kernels/qmatmul/stream_prefetch.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

constexpr uint64_t kGroupBlock = 8 * sizeof(BlockQ4_K);  // 1152 bytes

inline __m512i bcast8(const int8_t* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return _mm512_set1_epi64(v);
}

// 64 six-bit values [sub-block][row] from their low-nibble (32 bytes) and high-bit (16 bytes) parts.
inline void decode_six_bit(const uint8_t* lo, const uint8_t* hi, uint8_t out[64]) {
  const __m256i l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo));
  const __m256i nib = _mm256_set1_epi8(0x0F);
  const __m512i low = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(l, nib)),
                                         _mm256_and_si256(_mm256_srli_epi16(l, 4), nib), 1);
  const __m512i h = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hi)));
  const __m512i shifts = _mm512_set_epi64(6, 6, 4, 4, 2, 2, 0, 0);  // per 128-bit lane i: 2i
  const __m512i high = _mm512_and_si512(_mm512_srlv_epi64(h, shifts), _mm512_set1_epi8(3));
  _mm512_storeu_si512(out, _mm512_or_si512(low, _mm512_slli_epi16(high, 4)));
}

// Per activation row: the super-blocks' scales, and the 32-element sums of each sub-block as
// int16 in the low half of an int32 (the vpmaddwd operand).
struct XBlock {
  float d;
  int32_t sums[8];
  static XBlock of(const BlockQ8_K& x) {
    XBlock o;
    o.d = x.d;
    for (int j = 0; j < 8; ++j)
      o.sums[j] = static_cast<int32_t>(static_cast<uint16_t>(static_cast<int16_t>(x.bsums[2 * j] + x.bsums[2 * j + 1])));
    return o;
  }
};

// Lanes 2r and 2r+1 of each accumulator -> output row r of the group.
template <int G, int T>
void store_rows(const QMatmulArgs& a, const __m512 (&acc)[G][T], int64_t g0, int64_t t0, int64_t gs) {
  const __m512i even = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 14, 12, 10, 8, 6, 4, 2, 0);
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < T; ++t) {
      const __m512 pairs = _mm512_add_ps(acc[g][t], _mm512_permute_ps(acc[g][t], 0xB1));
      _mm256_storeu_ps(a.y + (t0 + t) * a.ldy + (g0 + g * gs) * 8, _mm512_castps512_ps256(_mm512_permutexvar_ps(even, pairs)));
    }
}

// Row groups g0, g0 + gs, ..., g0 + (G-1)·gs against tokens t0..t0+T-1 (as tile6 below).
// kStream: the weights come from DRAM once (decode and small batches): prefetch them a page ahead.
template <int G, int T, bool kStream = (T <= 2)>
void tile(const QMatmulArgs& a, const XBlock* xs, int64_t g0, int64_t t0, int64_t gs) {
  const int64_t nsb = a.cols / 256;
  const __m512i dup = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i nib = _mm512_set1_epi8(0x0F);
  const uint8_t* wg[G];
  const BlockQ8_K* x[T];
  for (int g = 0; g < G; ++g) wg[g] = a.w + static_cast<uint64_t>(g0 + g * gs) * 8 * a.row_bytes;
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const BlockQ8_K*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
  __m512 acc[G][T];
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < T; ++t) acc[g][t] = _mm512_setzero_ps();
  alignas(64) uint8_t sc[G][64], mn[G][64];
  for (int64_t sb = 0; sb < nsb; ++sb) {
    for (int g = 0; g < G; ++g) {
      const uint8_t* gb = wg[g] + sb * kGroupBlock;
      if constexpr (kStream) prefetch_ahead(gb, kGroupBlock);
      decode_six_bit(gb + 32, gb + 96, sc[g]);
      decode_six_bit(gb + 64, gb + 112, mn[g]);
    }
    __m512i S[G][T], M[G][T];
    for (int g = 0; g < G; ++g)
      for (int t = 0; t < T; ++t) S[g][t] = M[g][t] = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j) {
      __m512i s[G][T];
      for (int g = 0; g < G; ++g)
        for (int t = 0; t < T; ++t) s[g][t] = _mm512_setzero_si512();
      for (int c = 0; c < 2; ++c) {
        __m512i lo[G], hi[G];
        for (int g = 0; g < G; ++g) {
          const __m512i raw = _mm512_loadu_si512(wg[g] + sb * kGroupBlock + 128 + 64 * (2 * j + c));
          lo[g] = _mm512_and_si512(raw, nib);
          hi[g] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), nib);
        }
        for (int t = 0; t < T; ++t) {
          const int8_t* xq = x[t][sb].qs + 32 * j + 16 * c;
          const __m512i xl = bcast8(xq), xh = bcast8(xq + 8);
          for (int g = 0; g < G; ++g) s[g][t] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(s[g][t], lo[g], xl), hi[g], xh);
        }
      }
      for (int g = 0; g < G; ++g) {
        const __m128i s8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc[g] + 8 * j));
        const __m128i m8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mn[g] + 8 * j));
        const __m512i scj = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(s8, s8));  // (sc, 0) per lane
        const __m512i mnj = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(m8, _mm_setzero_si128()));  // even lanes
        for (int t = 0; t < T; ++t) {
          S[g][t] = _mm512_add_epi32(S[g][t], _mm512_madd_epi16(s[g][t], scj));
          const __m512i bs = _mm512_set1_epi32(xs[(t0 + t) * nsb + sb].sums[j]);
          M[g][t] = _mm512_add_epi32(M[g][t], _mm512_madd_epi16(mnj, bs));
        }
      }
    }
    for (int g = 0; g < G; ++g) {
      const uint8_t* gb = wg[g] + sb * kGroupBlock;
      const __m512 dv = _mm512_permutexvar_ps(
          dup, _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb)))));
      const __m512 mv = _mm512_permutexvar_ps(
          dup, _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb + 16)))));
      for (int t = 0; t < T; ++t) {
        const __m512 dx = _mm512_set1_ps(xs[(t0 + t) * nsb + sb].d);
        acc[g][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S[g][t]), _mm512_mul_ps(dv, dx), acc[g][t]);
        acc[g][t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(M[g][t]), _mm512_mul_ps(mv, dx), acc[g][t]);
      }
    }
  }
  store_rows<G, T>(a, acc, g0, t0, gs);
}

// --- Q6_K ----------------------------------------------------------------------------------------

constexpr uint64_t kGroupBlock6 = 8 * sizeof(BlockQ6_K);  // 1680 bytes

struct XBlock6 {
  float d;
  int64_t init[16];  // per sub-block: −32·bsum in the low (even-lane) int32, 0 in the high one
  static XBlock6 of(const BlockQ8_K& x) {
    XBlock6 o;
    o.d = x.d;
    for (int k = 0; k < 16; ++k) o.init[k] = static_cast<int64_t>(static_cast<uint32_t>(-32 * x.bsums[k]));
    return o;
  }
};

template <int G, int T, bool kStream = (T <= 2)>
void tile6(const QMatmulArgs& a, const XBlock6* xs, int64_t g0, int64_t t0, int64_t gs) {
  const int64_t nsb = a.cols / 256;
  const __m512i dup = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i nib = _mm512_set1_epi8(0x0F);
  const __m256i top = _mm256_set1_epi8(0x30);
  const uint8_t* wg[G];
  const BlockQ8_K* x[T];
  for (int g = 0; g < G; ++g) wg[g] = a.w + static_cast<uint64_t>(g0 + g * gs) * 8 * a.row_bytes;
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const BlockQ8_K*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
  __m512 acc[G][T];
  for (int g = 0; g < G; ++g)
    for (int t = 0; t < T; ++t) acc[g][t] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    __m512i S[G][T];
    for (int g = 0; g < G; ++g) {
      if constexpr (kStream) prefetch_ahead(wg[g] + sb * kGroupBlock6, kGroupBlock6);
      for (int t = 0; t < T; ++t) S[g][t] = _mm512_setzero_si512();
    }
    for (int k = 0; k < 16; ++k) {
      __m512i wl[G], wh[G], sck[G];
      for (int g = 0; g < G; ++g) {
        const uint8_t* gb = wg[g] + sb * kGroupBlock6;
        const uint8_t* q = gb + 144 + 96 * k;
        const __m512i raw = _mm512_loadu_si512(q);
        const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64));
        const __m512i hlo = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(hb, top)),
                                               _mm256_and_si256(_mm256_srli_epi16(hb, 2), top), 1);
        const __m512i hhi = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(_mm256_slli_epi16(hb, 4), top)),
                                               _mm256_and_si256(_mm256_slli_epi16(hb, 2), top), 1);
        wl[g] = _mm512_or_si512(_mm512_and_si512(raw, nib), hlo);
        wh[g] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(raw, 4), nib), hhi);
        const __m128i s8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(gb + 16 + 8 * k));
        sck[g] = _mm512_cvtepi8_epi32(_mm_unpacklo_epi8(s8, s8));
      }
      for (int t = 0; t < T; ++t) {
        const int8_t* xq = x[t][sb].qs + 16 * k;
        const __m512i xl = bcast8(xq), xh = bcast8(xq + 8);
        const __m512i init = _mm512_set1_epi64(xs[(t0 + t) * nsb + sb].init[k]);
        for (int g = 0; g < G; ++g) {
          const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(init, wl[g], xl), wh[g], xh);
          S[g][t] = _mm512_add_epi32(S[g][t], _mm512_mullo_epi32(s, sck[g]));
        }
      }
    }
    for (int g = 0; g < G; ++g) {
      const __m512 dv = _mm512_permutexvar_ps(
          dup, _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wg[g] + sb * kGroupBlock6)))));
      for (int t = 0; t < T; ++t)
        acc[g][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S[g][t]), _mm512_mul_ps(dv, _mm512_set1_ps(xs[(t0 + t) * nsb + sb].d)),
                                    acc[g][t]);
    }
  }
  store_rows<G, T>(a, acc, g0, t0, gs);
}

// The activations' per-super-block summaries (X::of), then the tiles over rows [r0, r1) (multiples
// of 8). Decode reads each thread's rows as two streams, the first and the second half of its row
// groups side by side (kPair1/kPair2: two groups half the range apart): far-apart streams keep
// more lines in flight than one (two adjacent groups measured slower than one: 55 -> 44 tok/s on
// 1B Q4_K_M). Prefill runs 4-token tiles over token chunks whose activations stay in L2.
template <typename X>
using TileFn = void (*)(const QMatmulArgs&, const X*, int64_t g0, int64_t t0, int64_t gs);
template <typename X, TileFn<X> kTile1, TileFn<X> kTile2, TileFn<X> kTile3, TileFn<X> kTile4, TileFn<X> kPair1,
          TileFn<X> kPair2, TileFn<X> kStream3, TileFn<X> kStream4>
void run_r8(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  const int64_t nsb = a.cols / 256;
  thread_local std::vector<X> xs;
  xs.resize(static_cast<size_t>(a.n_tok * nsb));
  for (int64_t t = 0; t < a.n_tok; ++t) {
    const BlockQ8_K* x = reinterpret_cast<const BlockQ8_K*>(a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
    for (int64_t sb = 0; sb < nsb; ++sb) xs[static_cast<size_t>(t * nsb + sb)] = X::of(x[sb]);
  }
  const int64_t g_begin = r0 / 8, g_end = r1 / 8;
  if (a.n_tok <= 2) {
    const int64_t half = (g_end - g_begin) / 2;
    for (int64_t g = g_begin; g < g_begin + half; ++g)
      a.n_tok == 1 ? kPair1(a, xs.data(), g, 0, half) : kPair2(a, xs.data(), g, 0, half);
    if (g_begin + 2 * half < g_end)
      a.n_tok == 1 ? kTile1(a, xs.data(), g_end - 1, 0, 1) : kTile2(a, xs.data(), g_end - 1, 0, 1);
    return;
  }
  if (a.n_tok <= 8) {  // a small decode batch: the weights stream once, prefetched (3-4 token tiles)
    for (int64_t g = g_begin; g < g_end; ++g)
      for (int64_t t = 0; t < a.n_tok;) {
        const int64_t left = a.n_tok - t;
        if (left >= 4) kStream4(a, xs.data(), g, t, 1), t += 4;
        else if (left == 3) kStream3(a, xs.data(), g, t, 1), t += 3;
        else if (left == 2) kTile2(a, xs.data(), g, t, 1), t += 2;
        else kTile1(a, xs.data(), g, t, 1), t += 1;
      }
    return;
  }
  constexpr int64_t kChunk = 64;
  for (int64_t c0 = 0; c0 < a.n_tok; c0 += kChunk) {
    const int64_t c1 = std::min(a.n_tok, c0 + kChunk);
    for (int64_t g = g_begin; g < g_end; ++g) {
      int64_t t = c0;
      for (; t + 4 <= c1; t += 4) kTile4(a, xs.data(), g, t, 1);
      switch (c1 - t) {
        case 3: kTile3(a, xs.data(), g, t, 1); break;
        case 2: kTile2(a, xs.data(), g, t, 1); break;
        case 1: kTile1(a, xs.data(), g, t, 1); break;
        default: break;
      }
    }
  }
}

}  // namespace

QMatmulFn qmatmul_r8_kquant_avx512(DType t) {
  switch (t) {
    case DType::kQ4_K: return &run_r8<XBlock, tile<1, 1>, tile<1, 2>, tile<1, 3>, tile<1, 4>, tile<2, 1>, tile<2, 2>, tile<1, 3, true>,
                                     tile<1, 4, true>>;
    case DType::kQ6_K:
      return &run_r8<XBlock6, tile6<1, 1>, tile6<1, 2>, tile6<1, 3>, tile6<1, 4>, tile6<2, 1>, tile6<2, 2>,
                     tile6<1, 3, true>, tile6<1, 4, true>>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
