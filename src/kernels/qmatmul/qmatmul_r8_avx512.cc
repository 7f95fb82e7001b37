// AVX-512 VNNI quantized matmul on the interleaved kRows8 layout (tensor/repack.h) for Q8_0 and
// Q4_0 weights with Q8_0 activations; scalar reference: qmatmul_r8_ref.cc.
//
// A 64-byte chunk of a group block holds 8 consecutive elements of 8 rows; vpdpbusd against a
// 64-bit broadcast of the matching 8 activation bytes accumulates row j in int32 lanes 2j and
// 2j+1. The weights are unsigned (Q8_0 stored as w + 128, Q4_0 nibbles q = w + 8), so each lane
// starts at minus half of the offset times Σx of the block (64·Σx, 4·Σx), then the lane pairs are
// summed and scaled by d_w · d_x and accumulated in F32. Per group block and token this is 4
// dpbusd and about 3.5 more operations for 256 multiply-adds, with no per-row scalar work: decode reads weights at memory speed, prefill reuses each loaded chunk
// for up to 4 tokens and each activation broadcast for 2 groups.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/qmatmul/qmatmul.h"
#include "kernels/qmatmul/r8_block_sums.h"
#include "kernels/qmatmul/stream_prefetch.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

inline __m512i bcast8(const int8_t* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return _mm512_set1_epi64(v);
}

// Row groups g0, g0 + gs, ..., g0 + (G-1)·gs against tokens t0..t0+T-1. kStream: the weights
// come from DRAM once (decode): prefetch them a page ahead.
//
// Each int32 lane starts a block at -half_offset·Σx (XSum::c, loaded by a broadcast, no ALU op),
// so the lane pair of a row sums to the exact Σ w·x. Two row groups (G = 2) share the scaling: a
// blend and two shuffles put row j of the first group in lane 2j and of the second in lane 2j+1,
// and one convert, multiply and FMA scale 16 rows. The scaling stage was half of the vector work
// of a 4-token tile (8192×4096 Q4_0 from cache, 1 thread, 4 tokens: 129 -> 146-158 GMAC/s with the
// shared scaling and the lanes' start values, bench_qmatmul; two-source permutes instead of the
// blend and shuffles measured 153: they all go to one port).
template <DType kType, int G, int T, bool kStream>
void tile(const QMatmulArgs& a, const XSum* xs, int64_t g0, int64_t t0, int64_t gs) {
  static_assert(G == 1 || G == 2, "one or two row groups");
  const int64_t nb = a.cols / 32;
  constexpr uint64_t kGb = group_block_bytes<kType>();
  constexpr __mmask16 kOdd = 0xAAAA;
  const __m512i nib = _mm512_set1_epi8(0x0F);
  // scales of group 0 rows j in lanes 2j (and 2j+1 when G = 1); of group 1 in lanes 2j+1
  const __m512i sidx = G == 2 ? _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0)
                              : _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const uint8_t* wg[G];
  const BlockQ8_0* x[T];
  const XSum* xt[T];
  for (int g = 0; g < G; ++g) wg[g] = a.w + static_cast<uint64_t>(g0 + g * gs) * 8 * a.row_bytes;
  for (int t = 0; t < T; ++t) {
    x[t] = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
    xt[t] = xs + (t0 + t) * nb;
  }
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i s[G][T];
    for (int t = 0; t < T; ++t) {
      const __m512i c = _mm512_set1_epi32(xt[t][b].c);
      for (int g = 0; g < G; ++g) s[g][t] = c;
    }
    if constexpr (kStream)
      for (int g = 0; g < G; ++g) prefetch_ahead(wg[g] + b * kGb, kGb);
    if constexpr (kType == DType::kQ8_0) {
      for (int k = 0; k < 4; ++k) {
        __m512i w[G];
        for (int g = 0; g < G; ++g) w[g] = _mm512_loadu_si512(wg[g] + b * kGb + 16 + 64 * k);
        for (int t = 0; t < T; ++t) {
          const __m512i xb = bcast8(x[t][b].qs + 8 * k);
          for (int g = 0; g < G; ++g) s[g][t] = _mm512_dpbusd_epi32(s[g][t], w[g], xb);
        }
      }
    } else {
      __m512i lo[G][2], hi[G][2];
      for (int g = 0; g < G; ++g)
        for (int c = 0; c < 2; ++c) {
          const __m512i raw = _mm512_loadu_si512(wg[g] + b * kGb + 16 + 64 * c);
          lo[g][c] = _mm512_and_si512(raw, nib);
          hi[g][c] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), nib);
        }
      for (int t = 0; t < T; ++t) {
        const __m512i xl0 = bcast8(x[t][b].qs), xl1 = bcast8(x[t][b].qs + 8);
        const __m512i xh0 = bcast8(x[t][b].qs + 16), xh1 = bcast8(x[t][b].qs + 24);
        for (int g = 0; g < G; ++g) {
          const __m512i l = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(s[g][t], lo[g][0], xl0), lo[g][1], xl1);
          s[g][t] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(l, hi[g][0], xh0), hi[g][1], xh1);
        }
      }
    }
    const __m512 d0 = _mm512_castps256_ps512(
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wg[0] + b * kGb))));
    __m512 dw;
    if constexpr (G == 2)
      dw = _mm512_permutex2var_ps(d0, sidx, _mm512_castps256_ps512(_mm256_cvtph_ps(
                                                _mm_loadu_si128(reinterpret_cast<const __m128i*>(wg[1] + b * kGb)))));
    else
      dw = _mm512_permutexvar_ps(sidx, d0);
    // A row's lane pair is summed in int32 first, so each row takes one F32 term per block,
    // float(Σ w·x)·(d_w·d_x), as the AMX kernel does: which kernel computes a token (batch size,
    // position in the batch) must not change its bits.
    for (int t = 0; t < T; ++t) {
      __m512i row;
      if constexpr (G == 2) {
        const __m512i even = _mm512_mask_blend_epi32(kOdd, s[0][t], s[1][t]);
        const __m512i odd = _mm512_mask_shuffle_epi32(_mm512_shuffle_epi32(s[0][t], _MM_PERM_CDAB), kOdd, s[1][t],
                                                      _MM_PERM_CDAB);
        row = _mm512_add_epi32(even, odd);
      } else {
        row = _mm512_add_epi32(s[0][t], _mm512_shuffle_epi32(s[0][t], _MM_PERM_CDAB));
      }
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(row), _mm512_mul_ps(dw, _mm512_set1_ps(xt[t][b].d)), acc[t]);
    }
  }
  // lanes 2j -> row j of group 0; lanes 2j+1 -> row j of group 1
  const __m512i even = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int t = 0; t < T; ++t) {
    float* y = a.y + (t0 + t) * a.ldy + g0 * 8;
    _mm256_storeu_ps(y, _mm512_castps512_ps256(_mm512_permutexvar_ps(even, acc[t])));
    if constexpr (G == 2)
      _mm256_storeu_ps(y + gs * 8, _mm512_castps512_ps256(_mm512_permutexvar_ps(odd, acc[t])));
  }
}

template <DType kType, int G, bool kStream = false>
void token_tiles(const QMatmulArgs& a, const XSum* xs, int64_t g0, int64_t t0, int64_t t1, int64_t gs = 1) {
  int64_t t = t0;
  for (; t + 4 <= t1; t += 4) tile<kType, G, 4, kStream>(a, xs, g0, t, gs);
  switch (t1 - t) {
    case 3: tile<kType, G, 3, kStream>(a, xs, g0, t, gs); break;
    case 2: tile<kType, G, 2, kStream>(a, xs, g0, t, gs); break;
    case 1: tile<kType, G, 1, kStream>(a, xs, g0, t, gs); break;
    default: break;
  }
}

// Batches up to this many tokens stream the weights as decode does (tiles of up to 4 tokens).
constexpr int64_t kStreamTokens = 8;

// Rows [r0, r1) must start and end at multiples of 8 (the thread pool splits at multiples of 16).
template <DType kType>
void r8_matmul(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  thread_local std::vector<XSum> xs;
  // Q8_0 stores w + 128 (offset 128 = 2 lanes × 64), Q4_0 q = w + 8 (2 lanes × 4); the lanes
  // start at minus their half of the offset term
  block_sums(a, kType == DType::kQ8_0 ? -64 : -4, xs);
  const int64_t g_end = r1 / 8;
  if (a.n_tok <= kStreamTokens) {
    // Decode (and small decode batches): each thread reads its rows as two streams, the first and
    // the second half of its row groups side by side, prefetched a page ahead. One contiguous stream
    // leaves the memory system idle while the kernel computes; two far-apart streams keep more lines
    // in flight (DRAM-bound harness, 1B shapes, 2 threads: Q4_0 39.5 -> 47.1 GB/s, Q8_0 32.2 -> 49.6
    // GB/s; three or four streams were slower). Up to 8 tokens the weights are read once, from DRAM.
    const int64_t gb = r0 / 8, half = (g_end - gb) / 2;
    for (int64_t g = gb; g < gb + half; ++g) token_tiles<kType, 2, true>(a, xs.data(), g, 0, a.n_tok, half);
    if (gb + 2 * half < g_end) token_tiles<kType, 1, true>(a, xs.data(), g_end - 1, 0, a.n_tok);
    return;
  }
  constexpr int64_t kChunk = 64;  // tokens whose activations stay in L2 while the rows stream
  for (int64_t c0 = 0; c0 < a.n_tok; c0 += kChunk) {
    const int64_t c1 = std::min(a.n_tok, c0 + kChunk);
    int64_t g = r0 / 8;
    for (; g + 2 <= g_end; g += 2) token_tiles<kType, 2>(a, xs.data(), g, c0, c1);
    if (g < g_end) token_tiles<kType, 1>(a, xs.data(), g, c0, c1);
  }
}

}  // namespace

QMatmulFn qmatmul_r8_avx512(DType t) {
  switch (t) {
    case DType::kQ8_0: return &r8_matmul<DType::kQ8_0>;
    case DType::kQ4_0: return &r8_matmul<DType::kQ4_0>;
    default: return qmatmul_r8_kquant_avx512(t);
  }
}

}  // namespace moeinfer
