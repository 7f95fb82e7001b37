// The AMX int8 matmul on weights in the kRows8 layout (tensor/repack.h), for Q8_0 and Q4_0 with
// Q8_0 activations, written once against a tile policy (amx_tiles.h): included by
// qmatmul_amx.cc (real tiles) and qmatmul_amx_emul_avx512.cc (the scalar tile model, for tests).
//
// A 16 x 16 output tile (16 tokens x 16 rows = two 8-row groups) is computed block by block:
//   A = the 16 tokens' 32 activation bytes of block b, loaded straight from the Q8_0 rows;
//   B = the 16 rows' 32 weights of block b in the tile's [k/4][4n + i] order, built once per row
//       tile with one vpermt2d per B row from the groups' interleaved chunks (and made signed);
//   C = TDPBSSD(A, B): exact int32 dot products, which the F32 accumulators take scaled by
//       d_w[n]·d_x[m] (the block scales), as the VNNI kernel does.
// Tokens past the last full 16 and an 8-row tail go to the AVX-512 VNNI kernel.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/qmatmul/amx_tiles.h"
#include "kernels/qmatmul/qmatmul.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {
namespace amx_detail {
// Each including TU (real tiles, emulated tiles; different compile flags) gets its own copies.
namespace {

constexpr int kTileTokens = 16;
// Batches below this many tokens stay on VNNI. Not measured (no AMX machine was at hand when this
// was written); the issue asks for AMX from 32 up at the latest.
constexpr int64_t kMinTokens = 32;

template <DType kType>
constexpr uint64_t group_block_bytes() {
  return kType == DType::kQ8_0 ? 8 * sizeof(BlockQ8_0) : 8 * sizeof(BlockQ4_0);
}

// The four 64-byte chunks of signed weights (chunk k: elements 8k..8k+7 of each row at 8·row) of
// one group block.
template <DType kType>
inline void signed_chunks(const uint8_t* gb, __m512i out[4]) {
  if constexpr (kType == DType::kQ8_0) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int k = 0; k < 4; ++k) out[k] = _mm512_xor_si512(_mm512_loadu_si512(gb + 16 + 64 * k), flip);
  } else {
    const __m512i nib = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
    for (int c = 0; c < 2; ++c) {
      const __m512i raw = _mm512_loadu_si512(gb + 16 + 64 * c);
      out[c] = _mm512_sub_epi8(_mm512_and_si512(raw, nib), eight);
      out[2 + c] = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(raw, 4), nib), eight);
    }
  }
}

// B tiles (8 rows x 64 bytes per block) and the 16 F32 row scales per block, for the rows of
// groups g and g + 1.
template <DType kType>
void build_b(const QMatmulArgs& a, int64_t g, uint8_t* b_tiles, float* scales) {
  const int64_t nb = a.cols / 32;
  constexpr uint64_t kGb = group_block_bytes<kType>();
  const uint8_t* wa = a.w + static_cast<uint64_t>(g) * 8 * a.row_bytes;
  const uint8_t* wb = wa + 8 * a.row_bytes;
  // dword n of a B row: row n's 4 elements; rows 0-7 from group g's chunk, 8-15 from g + 1's
  const __m512i first = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(1));
  for (int64_t b = 0; b < nb; ++b) {
    __m512i ca[4], cb[4];
    signed_chunks<kType>(wa + b * kGb, ca);
    signed_chunks<kType>(wb + b * kGb, cb);
    uint8_t* out = b_tiles + b * 512;
    for (int k = 0; k < 4; ++k) {
      _mm512_storeu_si512(out + 128 * k, _mm512_permutex2var_epi32(ca[k], first, cb[k]));
      _mm512_storeu_si512(out + 128 * k + 64, _mm512_permutex2var_epi32(ca[k], second, cb[k]));
    }
    const __m256i d = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wa + b * kGb))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb + b * kGb)), 1);
    _mm512_storeu_ps(scales + b * 16, _mm512_cvtph_ps(d));
  }
}

// Rows [r0, r1) (multiples of 8) for tokens [0, n16) (a multiple of 16) on tiles.
template <class Tiles, DType kType>
void tile_rows(const QMatmulArgs& a, int64_t r0, int64_t r1, int64_t n16, const float* xd) {
  const int64_t nb = a.cols / 32;
  TileConfig cfg;
  cfg.rows[0] = 16, cfg.colsb[0] = 64;  // C: 16 tokens x 16 int32
  cfg.rows[1] = 16, cfg.colsb[1] = 32;  // A: 16 tokens x 32 activation bytes
  cfg.rows[2] = 8, cfg.colsb[2] = 64;   // B: 8 rows of (16 weight rows x 4 bytes)
  Tiles::config(&cfg);
  thread_local std::vector<uint8_t> b_tiles;
  thread_local std::vector<float> scales;
  b_tiles.resize(static_cast<size_t>(nb * 512));
  scales.resize(static_cast<size_t>(nb * 16));
  alignas(64) int32_t c[16][16];
  for (int64_t r = r0; r + 16 <= r1; r += 16) {
    build_b<kType>(a, r / 8, b_tiles.data(), scales.data());
    for (int64_t t0 = 0; t0 < n16; t0 += kTileTokens) {
      __m512 acc[16];
      for (int m = 0; m < 16; ++m) acc[m] = _mm512_setzero_ps();
      const uint8_t* x0 = a.xq + static_cast<uint64_t>(t0) * a.xq_row_bytes + 2;  // block 0's qs
      for (int64_t b = 0; b < nb; ++b) {
        Tiles::template zero<0>();
        Tiles::template load<1>(x0 + b * sizeof(BlockQ8_0), static_cast<int64_t>(a.xq_row_bytes));
        Tiles::template load<2>(b_tiles.data() + b * 512, 64);
        Tiles::template dp_ss<0, 1, 2>();
        Tiles::template store<0>(c, 64);
        const __m512 dw = _mm512_loadu_ps(scales.data() + b * 16);
        for (int m = 0; m < 16; ++m)
          acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[m])),
                                   _mm512_mul_ps(dw, _mm512_set1_ps(xd[(t0 + m) * nb + b])), acc[m]);
      }
      for (int m = 0; m < 16; ++m) _mm512_storeu_ps(a.y + (t0 + m) * a.ldy + r, acc[m]);
    }
  }
  Tiles::release();
}

template <class Tiles, DType kType>
void matmul(const QMatmulArgs& a, int64_t r0, int64_t r1, QMatmulFn vnni) {
  const int64_t n16 = a.n_tok / kTileTokens * kTileTokens;
  const int64_t r16 = r0 + (r1 - r0) / 16 * 16;
  if (a.n_tok < kMinTokens || r16 == r0) {
    vnni(a, r0, r1);
    return;
  }
  const int64_t nb = a.cols / 32;
  thread_local std::vector<float> xd;  // activation block scales, [token][block]
  xd.resize(static_cast<size_t>(n16 * nb));
  for (int64_t t = 0; t < n16; ++t) {
    const BlockQ8_0* x = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
    for (int64_t b = 0; b < nb; ++b) xd[static_cast<size_t>(t * nb + b)] = _cvtsh_ss(x[b].d);
  }
  tile_rows<Tiles, kType>(a, r0, r16, n16, xd.data());
  QMatmulArgs head = a;
  head.n_tok = n16;
  if (r16 < r1) vnni(head, r16, r1);  // an 8-row group left over
  if (n16 < a.n_tok) {  // the last tokens
    QMatmulArgs tail = a;
    tail.xq += static_cast<uint64_t>(n16) * a.xq_row_bytes;
    tail.y += n16 * a.ldy;
    tail.n_tok = a.n_tok - n16;
    vnni(tail, r0, r1);
  }
}

}  // namespace
}  // namespace amx_detail
}  // namespace moeinfer
