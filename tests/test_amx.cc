// The AMX int8 kernel (kernels/qmatmul/qmatmul_amx_impl.h) against the scalar reference on the
// interleaved layout: on the scalar model of the tile instructions everywhere AVX-512 VNNI runs,
// and on real tiles where the CPU and OS provide them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "kernels/qmatmul/amx_tiles.h"
#include "kernels/qmatmul/qmatmul.h"
#include "tensor/quantize.h"
#include "tensor/repack.h"

namespace moeinfer {
namespace {

struct Case {
  std::vector<uint8_t> w;  // kRows8
  std::vector<uint8_t> xq;
  uint64_t row_bytes = 0, xq_row = 0;
};

Case make(DType t, int64_t rows, int64_t cols, int64_t n_tok, uint32_t seed) {
  Case c;
  dtype_row_bytes(t, cols, &c.row_bytes);
  dtype_row_bytes(DType::kQ8_0, cols, &c.xq_row);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> f(cols);
  std::vector<uint8_t> plain(c.row_bytes * rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : f) v = nd(rng);
    quantize_row(t, f.data(), cols, plain.data() + r * c.row_bytes);
  }
  c.w.resize(plain.size());
  repack_rows8(t, plain.data(), rows, cols, c.w.data());
  c.xq.resize(c.xq_row * n_tok);
  for (int64_t k = 0; k < n_tok; ++k) {
    for (float& v : f) v = nd(rng) * (k % 3 == 0 ? 10.0f : 1.0f);
    quantize_row(DType::kQ8_0, f.data(), cols, c.xq.data() + k * c.xq_row);
  }
  return c;
}

// Runs `fn` over rows split at a multiple of 8 (as the pool splits) and compares with the
// kRows8 reference (which equals the plain reference exactly, see test_quant.cc).
void expect_matches_reference(QMatmulFn (*get)(DType), const char* what) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    for (int64_t cols : {32, 96, 288}) {
      for (int64_t rows : {8, 16, 24, 48}) {
        for (int64_t n_tok : {32, 33, 47, 48, 70}) {
          Case c = make(t, rows, cols, n_tok, static_cast<uint32_t>(cols * 131 + rows * 7 + n_tok));
          std::vector<float> ref(rows * n_tok), got(rows * n_tok, NAN);
          QMatmulArgs a{c.w.data(), c.row_bytes, cols, c.xq.data(), c.xq_row, n_tok, ref.data(), rows};
          qmatmul_r8_ref(t)(a, 0, rows);
          a.y = got.data();
          const int64_t split = rows / 16 * 8;
          const QMatmulFn kernel = get(t);
          ASSERT_NE(kernel, nullptr) << what;
          kernel(a, 0, split);
          kernel(a, split, rows);
          // float rounding of the per-block scaling, relative to the size of the outputs
          double scale = 1.0;
          for (float v : ref) scale = std::max(scale, static_cast<double>(std::fabs(v)));
          for (int64_t i = 0; i < rows * n_tok; ++i)
            ASSERT_NEAR(got[i], ref[i], 1e-5 * (std::fabs(ref[i]) + 1.0) + 2e-6 * scale)
                << what << " " << dtype_name(t) << " rows " << rows << " cols " << cols << " n_tok " << n_tok << " i " << i;
        }
      }
    }
  }
}

TEST(AmxKernel, EmulatedTilesAgreeWithTheReference) {
  if (!isa_supported(Isa::kAvx512) || !cpu_features().avx512vnni) GTEST_SKIP() << "needs AVX-512 VNNI";
  expect_matches_reference(qmatmul_r8_amx_emulated, "emulated tiles");
}

TEST(AmxKernel, RealTilesAgreeWithTheReferenceWhereAvailable) {
  if (!amx_ready()) {
    std::printf("[ info ] AMX tiles not available here (CPU, OS permission or self-check): only the model ran\n");
    return;
  }
  expect_matches_reference(qmatmul_r8_amx, "AMX tiles");
}

// The tile model itself against the instruction's definition on a hand-made case: shapes the
// hardware accepts, and every byte of A and B reaching the right sums (signed on both sides).
TEST(AmxKernel, TileModelComputesTdpbssd) {
  TileConfig cfg;
  cfg.rows[0] = 3, cfg.colsb[0] = 8;  // C: 3 x 2 int32
  cfg.rows[1] = 3, cfg.colsb[1] = 8;  // A: 3 x 8 bytes (K = 8)
  cfg.rows[2] = 2, cfg.colsb[2] = 8;  // B: K/4 = 2 rows x (2 x 4) bytes
  EmulatedTiles::config(&cfg);
  int8_t a[3][8], b[2][8];
  for (int m = 0; m < 3; ++m)
    for (int k = 0; k < 8; ++k) a[m][k] = static_cast<int8_t>((m * 8 + k) * 5 - 60);
  for (int r = 0; r < 2; ++r)
    for (int j = 0; j < 8; ++j) b[r][j] = static_cast<int8_t>(127 - (r * 8 + j) * 17);
  int32_t c[3][2] = {{1, 2}, {3, 4}, {5, 6}};
  EmulatedTiles::load<0>(c, 8);
  EmulatedTiles::load<1>(a, 8);
  EmulatedTiles::load<2>(b, 8);
  EmulatedTiles::dp_ss<0, 1, 2>();
  int32_t out[3][2];
  EmulatedTiles::store<0>(out, 8);
  for (int m = 0; m < 3; ++m)
    for (int n = 0; n < 2; ++n) {
      int32_t want = c[m][n];
      for (int k = 0; k < 8; ++k) want += a[m][k] * b[k / 4][4 * n + k % 4];
      EXPECT_EQ(out[m][n], want) << m << "," << n;
    }
  EmulatedTiles::release();
}

}  // namespace
}  // namespace moeinfer
