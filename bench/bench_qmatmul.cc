// Quantized matmul kernels per weight type and ISA (and the AVX-512 kRows8 layout), single thread, on a 8192 x 4096 matrix (36 MB
// in Q8_0: far past the private caches), decode shape (1 token) and prefill shapes (16, 64 tokens).
// Reports weight bytes/s (decode: compare with the single-core read bandwidth) and MAC/s.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/qmatmul/qmatmul.h"
#include "tensor/quantize.h"
#include "tensor/repack.h"

namespace moeinfer {
namespace {

void BM_QMatmul(benchmark::State& state, DType t, Isa isa, bool rows8 = false, int64_t rows = 8192, int64_t cols = 4096) {
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  const QMatmulFn fn = rows8                ? (isa == Isa::kAvx2 ? qmatmul_r8_avx2(t) : qmatmul_r8_avx512(t))
                       : isa == Isa::kScalar ? qmatmul_ref(t)
                       : isa == Isa::kAvx2   ? qmatmul_avx2(t)
                                             : qmatmul_avx512(t);
  if (!fn) {
    state.SkipWithError("no kernel for this type at this ISA");
    return;
  }
  const int64_t n_tok = state.range(0);
  uint64_t row_bytes = 0, xq_row = 0;
  dtype_row_bytes(t, cols, &row_bytes);
  const DType at = activation_type(t);
  dtype_row_bytes(at, cols, &xq_row);
  std::vector<uint8_t> w(row_bytes * rows), xq(xq_row * n_tok);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> f(cols);
  for (int64_t r = 0; r < rows; ++r) {
    if (r < 64) for (float& v : f) v = nd(rng);  // 64 distinct rows, repeated: quantizing is slow
    quantize_row(t, f.data(), cols, w.data() + r * row_bytes);
  }
  for (int64_t k = 0; k < n_tok; ++k) {
    for (float& v : f) v = nd(rng);
    quantize_row(at, f.data(), cols, xq.data() + k * xq_row);
  }
  if (rows8) {
    std::vector<uint8_t> plain = w;
    repack_rows8(t, plain.data(), rows, cols, w.data());
  }
  std::vector<float> y(n_tok * rows);
  QMatmulArgs a{w.data(), row_bytes, cols, xq.data(), xq_row, n_tok, y.data(), rows};
  for (auto _ : state) {
    fn(a, 0, rows);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.size()));
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(rows * cols * n_tok) * state.iterations(),
                                               benchmark::Counter::kIsRate);
}

#define MOEINFER_QMATMUL_BENCH(T, I) \
  BENCHMARK_CAPTURE(BM_QMatmul, T##_##I, DType::k##T, Isa::k##I)->Arg(1)->Arg(16)->Arg(64)->UseRealTime()

MOEINFER_QMATMUL_BENCH(Q8_0, Avx2);
MOEINFER_QMATMUL_BENCH(Q8_0, Avx512);
MOEINFER_QMATMUL_BENCH(Q4_0, Avx2);
MOEINFER_QMATMUL_BENCH(Q4_0, Avx512);
BENCHMARK_CAPTURE(BM_QMatmul, Q8_0_Avx2_rows8, DType::kQ8_0, Isa::kAvx2, true)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_QMatmul, Q4_0_Avx2_rows8, DType::kQ4_0, Isa::kAvx2, true)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_QMatmul, Q8_0_Avx512_rows8, DType::kQ8_0, Isa::kAvx512, true)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_QMatmul, Q4_0_Avx512_rows8, DType::kQ4_0, Isa::kAvx512, true)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();
// 1024×2048 (1.1-2.2 MB): from L2, the kernels' compute rate for decode batches
BENCHMARK_CAPTURE(BM_QMatmul, Q8_0_Avx512_rows8_L2, DType::kQ8_0, Isa::kAvx512, true, 1024, 2048)->Arg(1)->Arg(4)->Arg(8)->UseRealTime();
BENCHMARK_CAPTURE(BM_QMatmul, Q4_0_Avx512_rows8_L2, DType::kQ4_0, Isa::kAvx512, true, 1024, 2048)->Arg(1)->Arg(4)->Arg(8)->UseRealTime();
BENCHMARK_CAPTURE(BM_QMatmul, Q4_K_Avx512_rows8, DType::kQ4_K, Isa::kAvx512, true)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_QMatmul, Q6_K_Avx512_rows8, DType::kQ6_K, Isa::kAvx512, true)->Arg(1)->Arg(16)->Arg(64)->UseRealTime();
MOEINFER_QMATMUL_BENCH(Q4_K, Avx2);
MOEINFER_QMATMUL_BENCH(Q4_K, Avx512);
MOEINFER_QMATMUL_BENCH(Q6_K, Avx2);
MOEINFER_QMATMUL_BENCH(Q6_K, Avx512);

}  // namespace
}  // namespace moeinfer
