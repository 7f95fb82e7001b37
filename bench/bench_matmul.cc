// Matmul kernels per dtype and ISA, decode shape (1 token) and prefill shape (64 tokens), on a
// 4096 x 4096 matrix (64 MiB in F32: larger than the private caches). Reports bytes/s of weights.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/matmul/matmul.h"
#include "tensor/fp16.h"

namespace moeinfer {
namespace {

void BM_Matmul(benchmark::State& state, DType t, Isa isa) {
  if (!isa_supported(isa)) {
    state.SkipWithError("ISA not supported on this CPU");
    return;
  }
  const int64_t rows = 4096, cols = 4096, n_tok = state.range(0);
  const int64_t esz = dtype_traits(t).type_size;
  std::vector<uint8_t> w(rows * cols * esz);
  std::mt19937 rng(1);
  for (auto& b : w) b = static_cast<uint8_t>(rng() & 0x3f);  // small finite values in every format
  std::vector<float> x(n_tok * cols, 0.5f), y(n_tok * rows);
  MatmulFn fn = isa == Isa::kScalar ? matmul_ref(t) : isa == Isa::kAvx2 ? matmul_avx2(t) : matmul_avx512(t);
  MatmulArgs a{w.data(), static_cast<uint64_t>(cols * esz), cols, x.data(), n_tok, y.data(), rows};
  for (auto _ : state) {
    fn(a, 0, rows);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.size()));
  state.counters["flops"] = benchmark::Counter(2.0 * rows * cols * n_tok * state.iterations(), benchmark::Counter::kIsRate);
}

#define MOEINFER_MATMUL_BENCH(T, I)                                                        \
  BENCHMARK_CAPTURE(BM_Matmul, T##_##I, DType::k##T, Isa::k##I)->Arg(1)->Arg(64)->UseRealTime()

MOEINFER_MATMUL_BENCH(F32, Scalar);
MOEINFER_MATMUL_BENCH(F32, Avx2);
MOEINFER_MATMUL_BENCH(F32, Avx512);
MOEINFER_MATMUL_BENCH(F16, Avx2);
MOEINFER_MATMUL_BENCH(F16, Avx512);
MOEINFER_MATMUL_BENCH(BF16, Avx2);
MOEINFER_MATMUL_BENCH(BF16, Avx512);

}  // namespace
}  // namespace moeinfer
