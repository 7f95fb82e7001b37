// The exp-based kernels (softmax, SwiGLU) at every level against the std::exp reference.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/act/act.h"

namespace moeinfer {
namespace {

struct Level {
  Isa isa;
  ExpFn exp;
  SoftmaxFn softmax;
  SwigluFn swiglu;
};

std::vector<Level> simd_levels() {
  std::vector<Level> out;
  if (isa_supported(Isa::kAvx2)) out.push_back({Isa::kAvx2, exp_avx2, softmax_avx2, swiglu_avx2});
  if (isa_supported(Isa::kAvx512)) out.push_back({Isa::kAvx512, exp_avx512, softmax_avx512, swiglu_avx512});
  return out;
}

// Over the range softmax and SiLU meet (down to -87, where AVX2's clamp starts), exp stays within
// 2e-7 relative of std::exp; far below it is (nearly) zero and far above it is huge or infinite.
TEST(ActKernels, ExpIsWithinTwoUlpOfStdExp) {
  std::vector<float> x;
  for (float v = -87.0f; v <= 88.0f; v += 0.0137f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-8f, -1e-8f, 0.5f * std::log(2.0f), -0.5f * std::log(2.0f)}) x.push_back(v);
  const int64_t n = static_cast<int64_t>(x.size());
  for (const Level& l : simd_levels()) {
    std::vector<float> got(x.size());
    l.exp(x.data(), got.data(), n);
    double worst = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::exp(static_cast<double>(x[i]));
      worst = std::max(worst, std::fabs(got[i] - want) / want);
    }
    EXPECT_LT(worst, 2e-7) << isa_name(l.isa);
    const float far[] = {-200.0f, -std::numeric_limits<float>::infinity(), 200.0f};
    float out[3];
    l.exp(far, out, 3);
    EXPECT_LT(out[0], 2e-38f) << isa_name(l.isa);
    EXPECT_GE(out[0], 0.0f) << isa_name(l.isa);
    EXPECT_LT(out[1], 2e-38f) << isa_name(l.isa);
    EXPECT_GT(out[2], 1e38f) << isa_name(l.isa);
  }
}

TEST(ActKernels, SoftmaxAgreesWithTheReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 4.0f);
  for (int64_t n : {1, 2, 7, 8, 9, 15, 16, 17, 33, 100, 257, 1000}) {
    std::vector<float> x0(n);
    for (float& v : x0) v = nd(rng);
    x0[n / 2] = -90.0f;  // a score far below the others
    std::vector<float> ref = x0;
    softmax_ref(ref.data(), n);
    for (const Level& l : simd_levels()) {
      std::vector<float> got = x0;
      l.softmax(got.data(), n);
      double total = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(got[i], ref[i], 1e-6f * ref[i] + 1e-30f) << isa_name(l.isa) << " n " << n << " i " << i;
        total += got[i];
      }
      EXPECT_NEAR(total, 1.0, 1e-5) << isa_name(l.isa) << " n " << n;
    }
  }
}

TEST(ActKernels, SwigluAgreesWithTheReference) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (int64_t n : {1, 7, 8, 9, 16, 17, 31, 100, 1000}) {
    std::vector<float> a0(n), b(n);
    for (int64_t i = 0; i < n; ++i) a0[i] = nd(rng), b[i] = nd(rng);
    a0[0] = 95.0f;  // silu saturates to the identity ...
    if (n > 1) a0[1] = -95.0f;  // ... and to zero
    std::vector<float> ref = a0;
    swiglu_ref(ref.data(), b.data(), n);
    for (const Level& l : simd_levels()) {
      std::vector<float> got = a0;
      l.swiglu(got.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i)
        EXPECT_NEAR(got[i], ref[i], 1e-6f * std::fabs(ref[i]) + 1e-30f) << isa_name(l.isa) << " n " << n << " i " << i;
    }
  }
}

}  // namespace
}  // namespace moeinfer
