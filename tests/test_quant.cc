// Quantized formats: quantize -> dequantize error bounds per format; every quantized kernel at
// every ISA this CPU has against the scalar reference at awkward sizes; the integer kernels
// against a float dot of the dequantized blocks; and llama.cpp's own quantized files
// (tests/data/quant, copied from the shared test data) against llama.cpp's logits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "kernels/qmatmul/qmatmul.h"
#include "model/model.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tensor/quant_blocks.h"
#include "tensor/quantize.h"
#include "test_util.h"

namespace moeinfer {
namespace {

const DType kWeightTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ5_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

std::vector<uint8_t> quantized(DType t, const std::vector<float>& x) {
  uint64_t bytes = 0;
  EXPECT_TRUE(dtype_row_bytes(t, x.size(), &bytes));
  std::vector<uint8_t> q(bytes);
  EXPECT_TRUE(quantize_row(t, x.data(), static_cast<int64_t>(x.size()), q.data()));
  return q;
}

// RMS error relative to the RMS of the data, per format (bits per weight ~ 8.5, 4.5, 5.5, 4.5, 5.5, 6.6).
double rel_rms_bound(DType t) {
  switch (t) {
    case DType::kQ8_0: return 0.01;
    case DType::kQ4_0: return 0.12;
    case DType::kQ5_0: return 0.06;
    case DType::kQ4_K: return 0.12;
    case DType::kQ5_K: return 0.06;
    case DType::kQ6_K: return 0.03;
    case DType::kQ8_K: return 0.01;
    default: return 0.0;
  }
}

TEST(QuantFormats, RoundTripErrorWithinFormatBound) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ5_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ8_K}) {
    const int64_t bs = dtype_traits(t).block_size;
    for (int64_t n : {bs, 4 * bs, 16 * bs}) {
      const std::vector<float> x = gaussian(n, static_cast<uint32_t>(n + static_cast<int>(t)));
      const std::vector<uint8_t> q = quantized(t, x);
      std::vector<float> y(n);
      ASSERT_TRUE(dequantize_row(t, q.data(), n, y.data()));
      double err = 0.0, ref = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        err += (x[i] - y[i]) * (x[i] - y[i]);
        ref += x[i] * x[i];
      }
      EXPECT_LE(std::sqrt(err / ref), rel_rms_bound(t)) << dtype_name(t) << " n=" << n;
    }
  }
}

TEST(QuantFormats, ZeroBlocksAndExactValues) {
  for (DType t : kWeightTypes) {
    const int64_t n = dtype_traits(t).block_size;
    std::vector<float> zero(n, 0.0f), y(n, 1.0f);
    const std::vector<uint8_t> q = quantized(t, zero);
    ASSERT_TRUE(dequantize_row(t, q.data(), n, y.data()));
    for (float v : y) EXPECT_EQ(v, 0.0f) << dtype_name(t);
  }
  // Q8_0 represents k · (amax / 127) exactly for integer k up to F16 rounding of the scale.
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16);  // amax 16 -> d = 16/127
  const std::vector<uint8_t> q = quantized(DType::kQ8_0, x);
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(q.data());
  EXPECT_EQ(b->qs[0], -127);
  EXPECT_EQ(b->qs[16], 0);
}

// Kernel inputs: weights quantized from gaussians, activations quantized by the reference.
struct QCase {
  std::vector<uint8_t> w, xq;
  std::vector<float> wf, xf;  // dequantized weights and activations
  uint64_t row_bytes = 0, xq_row = 0;
};

QCase make_case(DType t, int64_t rows, int64_t cols, int64_t n_tok, uint32_t seed) {
  QCase c;
  dtype_row_bytes(t, cols, &c.row_bytes);
  const DType at = activation_type(t);
  dtype_row_bytes(at, cols, &c.xq_row);
  c.w.resize(c.row_bytes * rows);
  c.wf.resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> row = gaussian(cols, seed + static_cast<uint32_t>(r));
    quantize_row(t, row.data(), cols, c.w.data() + r * c.row_bytes);
    dequantize_row(t, c.w.data() + r * c.row_bytes, cols, c.wf.data() + r * cols);
  }
  c.xq.resize(c.xq_row * n_tok);
  c.xf.resize(n_tok * cols);
  for (int64_t k = 0; k < n_tok; ++k) {
    std::vector<float> x = gaussian(cols, seed * 7 + static_cast<uint32_t>(k));
    quantize_row(at, x.data(), cols, c.xq.data() + k * c.xq_row);
    dequantize_row(at, c.xq.data() + k * c.xq_row, cols, c.xf.data() + k * cols);
  }
  return c;
}

TEST(QuantKernels, EveryIsaAgreesWithTheReferenceAtAwkwardSizes) {
  std::vector<std::string> exercised;
  for (DType t : kWeightTypes) {
    const int64_t bs = dtype_traits(t).block_size;
    for (int64_t blocks : {1, 3, 4}) {
      const int64_t cols = blocks * bs;
      for (int64_t rows : {1, 3, 31, 32, 33}) {
        for (int64_t n_tok : {1, 2, 5, 17}) {
          QCase c = make_case(t, rows, cols, n_tok, static_cast<uint32_t>(rows * 131 + cols + n_tok));
          std::vector<float> ref(rows * n_tok);
          QMatmulArgs a{c.w.data(), c.row_bytes, cols, c.xq.data(), c.xq_row, n_tok, ref.data(), rows};
          qmatmul_ref(t)(a, 0, rows);
          // The integer kernel equals a float dot of the dequantized blocks up to rounding.
          for (int64_t k = 0; k < n_tok; ++k)
            for (int64_t r = 0; r < rows; ++r) {
              double want = 0.0, mag = 0.0;
              for (int64_t i = 0; i < cols; ++i) {
                want += static_cast<double>(c.wf[r * cols + i]) * c.xf[k * cols + i];
                mag += std::fabs(static_cast<double>(c.wf[r * cols + i]) * c.xf[k * cols + i]);
              }
              EXPECT_NEAR(ref[k * rows + r], want, 1e-5 * mag + 1e-6) << dtype_name(t) << " cols " << cols;
            }
          if (isa_supported(Isa::kAvx2)) {
            if (QMatmulFn f = qmatmul_avx2(t)) {
              if (exercised.empty() || exercised.back() != dtype_name(t)) exercised.push_back(dtype_name(t));
              std::vector<float> y(rows * n_tok, NAN);
              QMatmulArgs b = a;
              b.y = y.data();
              f(b, 0, rows / 2);
              f(b, rows / 2, rows);
              for (int64_t i = 0; i < rows * n_tok; ++i)
                EXPECT_NEAR(y[i], ref[i], 1e-5 * (std::fabs(ref[i]) + 1.0)) << dtype_name(t) << " avx2";
            }
          }
        }
      }
    }
  }
  std::string s;
  for (const std::string& e : exercised) s += e + " ";
  std::printf("[ info ] AVX2 quantized kernels exercised: %s\n", s.empty() ? "(none on this CPU)" : s.c_str());
}

// y = Wᵀ·x with quantized W (absorbed MLA on a quantized attn_kv_b) equals the dequantized product.
TEST(QuantKernels, TransposedMatmulOnQuantizedWeights) {
  for (DType t : kWeightTypes) {
    const int64_t rows = 5, cols = dtype_traits(t).block_size * 2, n_tok = 3;
    QCase c = make_case(t, rows, cols, n_tok, 11);
    std::vector<float> x = gaussian(n_tok * rows, 5), y(n_tok * cols, NAN);
    TensorView w;
    w.type = t;
    w.n_dims = 2;
    w.ne[0] = cols;
    w.ne[1] = rows;
    w.data = c.w.data();
    w.nbytes = c.w.size();
    Kernels k(best_isa());
    ThreadPool pool(1);
    matmul_t(k, pool, w, x.data(), n_tok, y.data(), cols);
    for (int64_t tk = 0; tk < n_tok; ++tk)
      for (int64_t col = 0; col < cols; ++col) {
        double want = 0.0;
        for (int64_t r = 0; r < rows; ++r) want += static_cast<double>(x[tk * rows + r]) * c.wf[r * cols + col];
        EXPECT_NEAR(y[tk * cols + col], want, 1e-4) << dtype_name(t);
      }
  }
}

struct PeerFile {
  const char* gguf;
  const char* logits;
};

class LlamaCppPeer : public ::testing::TestWithParam<std::tuple<PeerFile, Isa>> {};

// Same file, same tokens: within 0.15·max(1, max|ref|) per row, same argmax on >= 98 % of the
// positions whose reference top-1/top-2 gap is >= 0.3.
TEST_P(LlamaCppPeer, MatchesLlamaCppLogits) {
  const PeerFile f = std::get<0>(GetParam());
  const Isa isa = std::get<1>(GetParam());
  if (!isa_supported(isa)) GTEST_SKIP() << isa_name(isa) << " not available";
  auto m = Model::load(test::data_path(std::string("quant/") + f.gguf));
  Kernels k(isa);
  ThreadPool pool(2);
  nlohmann::json g = test::read_json(test::data_path(std::string("quant/") + f.logits));
  std::vector<int32_t> toks = g["tokens"].get<std::vector<int32_t>>();
  Session s(*m, k, pool);
  const float* logits = s.eval(toks, true);
  const int64_t nv = m->config().n_vocab;
  int clear = 0, agree = 0;
  for (size_t t = 0; t < toks.size(); ++t) {
    std::vector<float> ref = g["logits"][t].get<std::vector<float>>();
    std::vector<float> got(logits + t * nv, logits + (t + 1) * nv);
    double mref = 1.0;
    for (float v : ref) mref = std::max(mref, std::fabs(static_cast<double>(v)));
    EXPECT_LE(test::max_abs_diff(got, ref), 0.15 * mref) << f.gguf << " row " << t;
    std::vector<float> sorted = ref;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] >= 0.3f) {
      ++clear;
      agree += argmax(got.data(), nv) == argmax(ref.data(), nv);
    }
  }
  EXPECT_GE(agree, 0.98 * clear) << f.gguf;
}

INSTANTIATE_TEST_SUITE_P(Files, LlamaCppPeer,
                         ::testing::Combine(::testing::Values(PeerFile{"s260-Q8_0.gguf", "llamacpp-logits-s260-Q8_0.json"},
                                                              PeerFile{"s260-Q4_0.gguf", "llamacpp-logits-s260-Q4_0.json"},
                                                              PeerFile{"t256-Q4_K_M.gguf", "llamacpp-logits-t256-Q4_K_M.json"}),
                                            ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512)));

}  // namespace
}  // namespace moeinfer
