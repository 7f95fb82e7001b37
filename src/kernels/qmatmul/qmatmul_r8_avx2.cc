// AVX2 quantized matmul on the interleaved kRows8 layout (tensor/repack.h) for Q8_0 and Q4_0
// weights with Q8_0 activations; scalar reference: qmatmul_r8_ref.cc.
//
// A 64-byte chunk (8 elements of 8 rows) is two ymm halves, rows 0-3 and 4-7. Without VNNI the
// products go through vpmaddubsw (unsigned x signed bytes -> int16 pairs) and vpmaddwd by ones
// (-> int32), so int32 lanes 2j and 2j+1 of a half hold row j's partial sums as in the AVX-512
// kernel. Q8_0's weights (stored w + 128) are made signed again and enter as |w| against
// sign(x, w), which keeps every int16 pair below 2·128·127; Q4_0's nibbles (q = w + 8, at most 15)
// enter unsigned, and each lane subtracts 4·Σx of the block (the pair of lanes, 8·Σx). Tiles of one
// or two tokens share the unpacked weights; decode prefetches the rows a page ahead.
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

inline __m256i bcast8(const int8_t* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return _mm256_set1_epi64x(v);
}

// Σ over 4-byte groups of u·s (u unsigned, s signed) as int32 lanes.
inline __m256i dot4(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

template <DType kType, int T>
void tile(const QMatmulArgs& a, const XSum* xs, int64_t g, int64_t t0) {
  const int64_t nb = a.cols / 32;
  constexpr uint64_t kGb = group_block_bytes<kType>();
  const uint8_t* wg = a.w + static_cast<uint64_t>(g) * 8 * a.row_bytes;
  const BlockQ8_0* x[T];
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t0 + t) * a.xq_row_bytes);
  const __m256i lo_dup = _mm256_set_epi32(3, 3, 2, 2, 1, 1, 0, 0), hi_dup = _mm256_set_epi32(7, 7, 6, 6, 5, 5, 4, 4);
  __m256 acc[T][2];
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* gb = wg + b * kGb;
    if constexpr (T <= 2) prefetch_ahead(gb, kGb);
    __m256i s[T][2];
    for (int t = 0; t < T; ++t) s[t][0] = s[t][1] = _mm256_setzero_si256();
    if constexpr (kType == DType::kQ8_0) {
      const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
      for (int k = 0; k < 4; ++k)
        for (int h = 0; h < 2; ++h) {
          const __m256i w = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + 16 + 64 * k + 32 * h)), flip);
          const __m256i aw = _mm256_sign_epi8(w, w);
          for (int t = 0; t < T; ++t) s[t][h] = _mm256_add_epi32(s[t][h], dot4(aw, _mm256_sign_epi8(bcast8(x[t][b].qs + 8 * k), w)));
        }
    } else {
      const __m256i nib = _mm256_set1_epi8(0x0F);
      for (int c = 0; c < 2; ++c)
        for (int h = 0; h < 2; ++h) {
          const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gb + 16 + 64 * c + 32 * h));
          const __m256i lo = _mm256_and_si256(raw, nib), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), nib);
          for (int t = 0; t < T; ++t)
            s[t][h] = _mm256_add_epi32(s[t][h], _mm256_add_epi32(dot4(lo, bcast8(x[t][b].qs + 8 * c)),
                                                                 dot4(hi, bcast8(x[t][b].qs + 16 + 8 * c))));
        }
    }
    const __m256 d8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(gb)));
    const __m256 dlo = _mm256_permutevar8x32_ps(d8, lo_dup), dhi = _mm256_permutevar8x32_ps(d8, hi_dup);
    for (int t = 0; t < T; ++t) {
      const XSum q = xs[(t0 + t) * nb + b];
      const __m256 dx = _mm256_set1_ps(q.d);
      __m256i s0 = s[t][0], s1 = s[t][1];
      if constexpr (kType == DType::kQ4_0) {
        s0 = _mm256_sub_epi32(s0, _mm256_set1_epi32(q.c));
        s1 = _mm256_sub_epi32(s1, _mm256_set1_epi32(q.c));
      }
      acc[t][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_mul_ps(dlo, dx), acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_mul_ps(dhi, dx), acc[t][1]);
    }
  }
  // hadd -> rows (0 1 4 5 | 2 3 6 7); the permutation puts them in order
  const __m256i order = _mm256_set_epi32(7, 6, 3, 2, 5, 4, 1, 0);
  for (int t = 0; t < T; ++t)
    _mm256_storeu_ps(a.y + (t0 + t) * a.ldy + g * 8,
                     _mm256_permutevar8x32_ps(_mm256_hadd_ps(acc[t][0], acc[t][1]), order));
}

// Rows [r0, r1) must start and end at multiples of 8.
template <DType kType>
void r8_matmul(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  thread_local std::vector<XSum> xs;
  block_sums(a, 4, xs);
  constexpr int64_t kChunk = 64;  // tokens whose activations stay in L2 while the rows stream
  for (int64_t c0 = 0; c0 < a.n_tok; c0 += kChunk) {
    const int64_t c1 = std::min(a.n_tok, c0 + kChunk);
    for (int64_t g = r0 / 8; g < r1 / 8; ++g) {
      int64_t t = c0;
      for (; t + 2 <= c1; t += 2) tile<kType, 2>(a, xs.data(), g, t);
      if (t < c1) tile<kType, 1>(a, xs.data(), g, t);
    }
  }
}

}  // namespace

QMatmulFn qmatmul_r8_avx2(DType t) {
  switch (t) {
    case DType::kQ8_0: return &r8_matmul<DType::kQ8_0>;
    case DType::kQ4_0: return &r8_matmul<DType::kQ4_0>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
