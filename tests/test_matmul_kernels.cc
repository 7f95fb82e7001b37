// Every matmul kernel this CPU can run agrees with the scalar reference at awkward sizes.
// Tolerance from the math: each output is a sum of `cols` products accumulated in F32 in a
// different order, so |Δ| <= c · cols · 2^-24 · Σ|w·x|; we use 4 · cols · 2^-24 · Σ|w·x| + 1e-30.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <cstring>

#include "kernels/matmul/matmul.h"
#include "kernels/vec/vec.h"
#include "kernels/memread/memread.h"
#include "tensor/fp16.h"
#include "tensor/fp8.h"

namespace moeinfer {
namespace {

struct Case {
  DType type;
  int64_t rows, cols, n_tok;
};

std::vector<uint8_t> random_matrix(DType t, int64_t rows, int64_t cols, std::mt19937& rng, std::vector<float>* f) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t esz = dtype_traits(t).type_size;
  std::vector<uint8_t> w(rows * cols * esz);
  f->resize(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) {
    float v = nd(rng);
    if (t == DType::kF32) {
      std::memcpy(&w[i * 4], &v, 4);
    } else if (t == DType::kF16) {
      uint16_t h = f32_to_f16(v);
      std::memcpy(&w[i * 2], &h, 2);
      v = f16_to_f32(h);
    } else {
      uint16_t h = f32_to_bf16(v);
      std::memcpy(&w[i * 2], &h, 2);
      v = bf16_to_f32(h);
    }
    (*f)[i] = v;
  }
  return w;
}

TEST(MatmulKernels, AllIsasAgreeWithReference) {
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t sizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 255, 257};
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16}) {
    for (int64_t cols : sizes) {
      for (int64_t rows : {1, 3, 4, 5, 9}) {
        for (int64_t n_tok : {1, 2, 5}) {
          std::vector<float> wf;
          std::vector<uint8_t> w = random_matrix(t, rows, cols, rng, &wf);
          std::vector<float> x(n_tok * cols);
          for (float& v : x) v = nd(rng);
          const uint64_t rb = cols * dtype_traits(t).type_size;
          std::vector<float> ref(n_tok * rows, NAN);
          MatmulArgs a{w.data(), rb, cols, x.data(), n_tok, ref.data(), rows};
          matmul_ref(t)(a, 0, rows);
          for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
            if (!isa_supported(isa)) continue;
            MatmulFn fn = isa == Isa::kAvx2 ? matmul_avx2(t) : matmul_avx512(t);
            ASSERT_NE(fn, nullptr);
            std::vector<float> y(n_tok * rows, NAN);
            MatmulArgs b = a;
            b.y = y.data();
            // two row ranges, as threads would split them
            fn(b, 0, rows / 2);
            fn(b, rows / 2, rows);
            for (int64_t tk = 0; tk < n_tok; ++tk)
              for (int64_t r = 0; r < rows; ++r) {
                double mag = 0.0;
                for (int64_t i = 0; i < cols; ++i) mag += std::fabs(wf[r * cols + i] * x[tk * cols + i]);
                const double tol = 4.0 * cols * std::ldexp(1.0, -24) * mag + 1e-30;
                EXPECT_NEAR(y[tk * rows + r], ref[tk * rows + r], tol)
                    << dtype_name(t) << " " << isa_name(isa) << " rows=" << rows << " cols=" << cols
                    << " n_tok=" << n_tok;
              }
          }
        }
      }
    }
  }
}

// FP8 E4M3 with block scales, partial edge blocks included: every ISA against the reference.
TEST(MatmulKernels, Fp8BlockScaledAgreesWithReference) {
  std::mt19937 rng(7);
  for (int64_t rows : {1, 5, 130}) {
    for (int64_t cols : {16, 100, 128, 200, 256}) {
      for (int64_t n_tok : {1, 3}) {
        const int64_t br = 128, bc = 128, gr = (rows + br - 1) / br, gc = (cols + bc - 1) / bc;
        std::vector<uint8_t> w(rows * cols);
        for (auto& b : w) {
          b = static_cast<uint8_t>(rng());
          if ((b & 0x7f) == 0x7f) b ^= 1;  // no NaN patterns
        }
        std::vector<float> scale(gr * gc), x(n_tok * cols);
        for (float& v : scale) v = std::ldexp(1.0f, static_cast<int>(rng() % 7) - 3);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (float& v : x) v = nd(rng);
        std::vector<float> ref(n_tok * rows), y(n_tok * rows);
        MatmulArgs a{w.data(), static_cast<uint64_t>(cols), cols, x.data(), n_tok, ref.data(), rows, scale.data(), gc,
                     br, bc, 0};
        matmul_ref(DType::kF8_E4M3)(a, 0, rows);
        for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
          if (!isa_supported(isa)) continue;
          MatmulFn fn = isa == Isa::kAvx2 ? matmul_avx2(DType::kF8_E4M3) : matmul_avx512(DType::kF8_E4M3);
          if (!fn) continue;
          MatmulArgs b = a;
          b.y = y.data();
          fn(b, 0, rows);
          for (int64_t i = 0; i < n_tok * rows; ++i) {
            double mag = 0.0;
            const int64_t r = i % rows, t = i / rows;
            for (int64_t c = 0; c < cols; ++c)
              mag += std::fabs(fp8_e4m3_to_f32(w[r * cols + c]) * scale[(r / br) * gc + c / bc] * x[t * cols + c]);
            EXPECT_NEAR(y[i], ref[i], 4.0 * cols * std::ldexp(1.0, -24) * mag + 1e-30) << isa_name(isa);
          }
        }
      }
    }
  }
}

TEST(MatmulKernels, ReferenceIsExactOnSmallIntegers) {
  // With small integer values every product and partial sum is exact in F32.
  const int64_t rows = 3, cols = 5;
  float w[rows * cols], x[cols], y[rows];
  for (int i = 0; i < rows * cols; ++i) w[i] = static_cast<float>(i % 7 - 3);
  for (int i = 0; i < cols; ++i) x[i] = static_cast<float>(i - 2);
  MatmulArgs a{reinterpret_cast<const uint8_t*>(w), cols * 4, cols, x, 1, y, rows};
  matmul_ref(DType::kF32)(a, 0, rows);
  for (int r = 0; r < rows; ++r) {
    float want = 0;
    for (int i = 0; i < cols; ++i) want += w[r * cols + i] * x[i];
    EXPECT_EQ(y[r], want);
  }
}

TEST(MatmulKernels, DispatchFallsBack) {
  Isa used = Isa::kAmx;
  EXPECT_NE(select_matmul(DType::kF32, Isa::kScalar, &used), nullptr);
  EXPECT_EQ(used, Isa::kScalar);
  EXPECT_EQ(select_matmul(DType::kQ4_K, Isa::kScalar), nullptr);  // no quantized kernels yet
  if (isa_supported(Isa::kAmx)) {
    select_matmul(DType::kF32, Isa::kAmx, &used);
    EXPECT_EQ(used, Isa::kAvx512);  // float weights never use AMX tiles
  }
}

TEST(MemreadKernels, AllIsasSumTheSame) {
  std::vector<float, std::allocator<float>> v(4096 + 64);
  float* p = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(v.data()) + 63) & ~uintptr_t{63});
  for (int i = 0; i < 4096; ++i) p[i] = static_cast<float>(i % 5);  // exact sums
  const float want = memread_ref(p, 4096);
  EXPECT_EQ(want, 8190.0f);
  if (isa_supported(Isa::kAvx2)) {
    EXPECT_EQ(memread_avx2(p, 4096), want);
    EXPECT_EQ(memread_prefetch_avx2(p, 4096), want);
  }
  if (isa_supported(Isa::kAvx512)) {
    EXPECT_EQ(memread_avx512(p, 4096), want);
    EXPECT_EQ(memread_prefetch_avx512(p, 4096), want);
  }
}

TEST(Fp16, ConversionsRoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), h) << h;
  }
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(3.140625f)), 3.140625f);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie to even
}

}  // namespace
}  // namespace moeinfer

namespace moeinfer {
namespace {

// Attention's vector kernels at every level against the in-order scalar reference, at lengths
// around the vector widths (tails included).
TEST(VecKernels, DotAndAxpyAgreeWithTheReference) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  struct Level {
    Isa isa;
    DotF32Fn dot;
    AxpyF32Fn axpy;
  };
  const std::vector<Level> levels = {{Isa::kAvx2, dot_f32_avx2, axpy_f32_avx2}, {Isa::kAvx512, dot_f32_avx512, axpy_f32_avx512}};
  for (int64_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128, 200, 576}) {
    std::vector<float> a(n), b(n), y0(n);
    for (int64_t i = 0; i < n; ++i) a[i] = nd(rng), b[i] = nd(rng), y0[i] = nd(rng);
    double mag = 0.0;
    for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(a[i]) * b[i]);
    const float want = dot_f32_ref(a.data(), b.data(), n);
    std::vector<float> yr = y0;
    axpy_f32_ref(0.75f, a.data(), yr.data(), n);
    for (const Level& l : levels) {
      if (!isa_supported(l.isa)) continue;
      EXPECT_NEAR(l.dot(a.data(), b.data(), n), want, 1e-6 * mag + 1e-7) << isa_name(l.isa) << " n " << n;
      std::vector<float> y = y0;
      l.axpy(0.75f, a.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], yr[i], 1e-6f * (std::fabs(yr[i]) + 1.0f)) << isa_name(l.isa);
    }
  }
}

// Scores of a tile of queries against transposed keys at every level equal the in-order dot
// products up to rounding, for row counts around the register tiles (8, 4, 1), key counts around
// the vector widths, and leading dimensions larger than the counts.
TEST(VecKernels, TransposedKeyScoresAgreeWithTheReference) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const std::vector<std::pair<Isa, ScoresKtFn>> levels = {{Isa::kAvx2, scores_kt_avx2}, {Isa::kAvx512, scores_kt_avx512}};
  for (int64_t rows : {1, 3, 4, 5, 8, 13, 16}) {
    for (int64_t d : {1, 16, 64, 72}) {
      for (int64_t n : {1, 5, 8, 15, 16, 17, 31, 32, 33, 100}) {
        const int64_t ldk = n + 3, ldq = d + 2, ldo = n + 1;
        std::vector<float> q(rows * ldq), kt(d * ldk), ref(rows * ldo, -1.0f), got;
        for (float& v : q) v = nd(rng);
        for (float& v : kt) v = nd(rng);
        scores_kt_ref(q.data(), ldq, rows, kt.data(), ldk, n, d, 0.125f, ref.data(), ldo);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t p = 0; p < n; ++p) {  // the reference is the in-order dot product
            float s = 0.0f;
            for (int64_t i = 0; i < d; ++i) s += q[r * ldq + i] * kt[i * ldk + p];
            ASSERT_EQ(ref[r * ldo + p], s * 0.125f);
          }
        for (const auto& [isa, fn] : levels) {
          if (!isa_supported(isa)) continue;
          got.assign(rows * ldo, -1.0f);
          fn(q.data(), ldq, rows, kt.data(), ldk, n, d, 0.125f, got.data(), ldo);
          for (int64_t r = 0; r < rows; ++r) {
            EXPECT_EQ(got[r * ldo + n], -1.0f) << "wrote past the row, " << isa_name(isa);
            for (int64_t p = 0; p < n; ++p) {
              double mag = 0.0;
              for (int64_t i = 0; i < d; ++i) mag += std::fabs(static_cast<double>(q[r * ldq + i]) * kt[i * ldk + p]);
              EXPECT_NEAR(got[r * ldo + p], ref[r * ldo + p], 1e-6 * 0.125 * mag + 1e-7)
                  << isa_name(isa) << " rows " << rows << " d " << d << " n " << n;
            }
          }
        }
      }
    }
  }
}

// Weighted sums of strided rows for a tile of weight vectors against the in-order axpy reference,
// at widths around the vector width and past the 64-column register block.
TEST(VecKernels, WeightedRowSumsAgreeWithTheReference) {
  std::mt19937 rng(13);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const std::vector<std::pair<Isa, WsumRowsFn>> levels = {{Isa::kAvx2, wsum_rows_avx2}, {Isa::kAvx512, wsum_rows_avx512}};
  for (int64_t rows : {1, 3, 4, 5, 9}) {
    for (int64_t d : {1, 15, 16, 17, 64, 65, 128, 200}) {
      for (int64_t n : {1, 2, 7, 33}) {
        const int64_t ldv = d + 5, ldw = n + 2, ldo = d + 1;
        std::vector<float> w(rows * ldw), v(n * ldv), out0(rows * ldo);
        for (float& x : w) x = nd(rng);
        for (float& x : v) x = nd(rng);
        for (float& x : out0) x = nd(rng);
        std::vector<float> ref = out0;
        wsum_rows_ref(w.data(), ldw, rows, v.data(), ldv, n, d, ref.data(), ldo);
        for (const auto& [isa, fn] : levels) {
          if (!isa_supported(isa)) continue;
          std::vector<float> got = out0;
          fn(w.data(), ldw, rows, v.data(), ldv, n, d, got.data(), ldo);
          for (int64_t r = 0; r < rows; ++r) {
            EXPECT_EQ(got[r * ldo + d], out0[r * ldo + d]) << "wrote past the row, " << isa_name(isa);
            for (int64_t i = 0; i < d; ++i) {
              double mag = std::fabs(static_cast<double>(out0[r * ldo + i]));
              for (int64_t p = 0; p < n; ++p) mag += std::fabs(static_cast<double>(w[r * ldw + p]) * v[p * ldv + i]);
              EXPECT_NEAR(got[r * ldo + i], ref[r * ldo + i], 1e-6 * mag + 1e-7)
                  << isa_name(isa) << " rows " << rows << " d " << d << " n " << n << " i " << i;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace moeinfer
