// The activation quantizers at every level must write exactly the reference's bytes (Q8_0 and
// Q8_K), including rounding ties, zero blocks, sign ties of the block maximum, and sub-normal and
// large magnitudes.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/quant_act/quant_act.h"
#include "tensor/dtype.h"
#include "tensor/quantize.h"

namespace moeinfer {
namespace {

struct Level {
  const char* name;
  Isa isa;
};

std::vector<Level> simd_levels() {
  std::vector<Level> out;
  if (isa_supported(Isa::kAvx2)) out.push_back({"avx2", Isa::kAvx2});
  if (isa_supported(Isa::kAvx512)) out.push_back({"avx512", Isa::kAvx512});
  return out;
}

// Rows that stress the rounding: random normals at several scales, exact ties after scaling
// (block max 127 makes d = 1 for Q8_0, so k + 0.5 is a tie; max -127 makes iscale 1 for Q8_K),
// all-zero blocks, a block whose largest magnitude appears with both signs, tiny values.
std::vector<std::vector<float>> rows(int64_t n) {
  std::mt19937 rng(1234 + static_cast<unsigned>(n));
  std::vector<std::vector<float>> out;
  for (float scale : {1.0f, 1e-3f, 1e3f, 1e-30f}) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> r(static_cast<size_t>(n));
    for (float& v : r) v = dist(rng);
    out.push_back(r);
  }
  std::vector<float> ties(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ties[i] = static_cast<float>(static_cast<int>(i % 254) - 127) + 0.5f;
  for (int64_t b = 0; b < n; b += 32) ties[b] = (b / 32) % 2 ? 127.0f : -127.0f;
  out.push_back(ties);
  std::vector<float> mixed(static_cast<size_t>(n), 0.0f);  // zero blocks, then sign ties of the max
  for (int64_t i = n / 2; i < n; ++i) mixed[i] = static_cast<float>((i * 37) % 11) - 5.0f;
  for (int64_t b = n / 2; b < n; b += 64) mixed[b] = 5.0f;
  out.push_back(mixed);
  return out;
}

void expect_same_bytes(DType t, int64_t n) {
  uint64_t row_bytes = 0;
  ASSERT_TRUE(dtype_row_bytes(t, static_cast<uint64_t>(n), &row_bytes));
  for (const std::vector<float>& x : rows(n)) {
    std::vector<uint8_t> want(row_bytes), got(row_bytes);
    select_quant_act(t, Isa::kScalar)(x.data(), n, want.data());
    std::vector<uint8_t> direct(row_bytes);
    ASSERT_TRUE(quantize_row(t, x.data(), n, direct.data()));
    EXPECT_EQ(0, std::memcmp(want.data(), direct.data(), row_bytes)) << "the reference is quantize_row";
    for (const Level& l : simd_levels()) {
      std::fill(got.begin(), got.end(), uint8_t{0xAB});
      select_quant_act(t, l.isa)(x.data(), n, got.data());
      size_t first = 0;
      while (first < row_bytes && got[first] == want[first]) ++first;
      EXPECT_EQ(first, row_bytes) << dtype_name(t) << " n=" << n << " at " << l.name << ": first differing byte "
                                  << first;
    }
  }
}

TEST(QuantAct, Q8_0MatchesReferenceBytes) {
  for (int64_t n : {32, 64, 96, 2048, 8192 + 32}) expect_same_bytes(DType::kQ8_0, n);
}

TEST(QuantAct, Q8_KMatchesReferenceBytes) {
  for (int64_t n : {256, 512, 2048, 8192 + 256}) expect_same_bytes(DType::kQ8_K, n);
}

TEST(QuantAct, OnlyActivationTypesHaveQuantizers) {
  EXPECT_EQ(select_quant_act(DType::kQ4_0, Isa::kAvx512), nullptr);
  EXPECT_NE(select_quant_act(DType::kQ8_0, Isa::kScalar), nullptr);
  EXPECT_NE(select_quant_act(DType::kQ8_K, Isa::kScalar), nullptr);
}

}  // namespace
}  // namespace moeinfer
