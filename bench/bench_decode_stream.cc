// Decode's weight stream from DRAM: the matmuls of one llama-3.2-1b decode step (16 layers of q, k,
// v, o, gate, up, down and the 128256-row head; 0.8-1.3 GB of interleaved weights, far past the
// caches) on a 2-thread pool, as the model splits them, against a read of the same bytes by the same
// pool right after. Reports both rates and their ratio ("of_read"), the fraction of the available
// bandwidth the kernels use; on a shared machine compare ratios, not the raw rates.
//   ./build/bench/moeinfer_bench --benchmark_filter=DecodeStream
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/memread/memread.h"
#include "kernels/qmatmul/qmatmul.h"
#include "tensor/quantize.h"
#include "tensor/repack.h"

namespace moeinfer {
namespace {

struct Matrix {
  int64_t rows, cols;
  uint64_t row_bytes = 0;
  uint8_t* w = nullptr;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void BM_DecodeStream(benchmark::State& state, DType t) {
  if (!isa_supported(Isa::kAvx512) || !cpu_features().avx512vnni || !qmatmul_r8_avx512(t)) {
    state.SkipWithError("needs AVX512-VNNI");
    return;
  }
  const QMatmulFn fn = qmatmul_r8_avx512(t);
  const int64_t shapes[7][2] = {{2048, 2048}, {512, 2048}, {512, 2048}, {2048, 2048},
                                {8192, 2048}, {8192, 2048}, {2048, 8192}};
  std::vector<Matrix> ms;
  for (int l = 0; l < 16; ++l)
    for (const auto& sh : shapes) ms.push_back({sh[0], sh[1]});
  ms.push_back({128256, 2048});
  // 64 distinct rows per matrix, repeated (quantizing a gigabyte would take minutes)
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  uint64_t total = 0;
  for (Matrix& m : ms) {
    dtype_row_bytes(t, m.cols, &m.row_bytes);
    const uint64_t bytes = m.row_bytes * m.rows, huge = uint64_t{1} << 21;
    m.w = static_cast<uint8_t*>(std::aligned_alloc(huge, (bytes + huge - 1) / huge * huge));
    ::madvise(m.w, bytes, MADV_HUGEPAGE);  // as the model's repacked arena
    std::vector<uint8_t> plain(m.row_bytes * 64), packed(m.row_bytes * 64);
    std::vector<float> f(m.cols);
    for (int64_t r = 0; r < 64; ++r) {
      for (float& v : f) v = nd(rng);
      quantize_row(t, f.data(), m.cols, plain.data() + r * m.row_bytes);
    }
    repack_rows8(t, plain.data(), 64, m.cols, packed.data());
    for (int64_t r = 0; r < m.rows; r += 64) std::memcpy(m.w + r * m.row_bytes, packed.data(), m.row_bytes * 64);
    total += bytes;
  }
  const DType at = activation_type(t);
  uint64_t xr2k = 0, xr8k = 0;
  dtype_row_bytes(at, 2048, &xr2k);
  dtype_row_bytes(at, 8192, &xr8k);
  std::vector<float> f(8192);
  for (float& v : f) v = nd(rng);
  std::vector<uint8_t> x2k(xr2k), x8k(xr8k);
  quantize_row(at, f.data(), 2048, x2k.data());
  quantize_row(at, f.data(), 8192, x8k.data());
  std::vector<float> y(128256);
  ThreadPool pool(2);
  const MemreadFn read = select_memread(Isa::kAvx512);
  volatile float sink = 0.0f;
  auto run_matmuls = [&] {
    for (const Matrix& m : ms) {
      const bool wide = m.cols == 8192;
      QMatmulArgs a{m.w, m.row_bytes, m.cols, wide ? x8k.data() : x2k.data(), wide ? xr8k : xr2k, 1, y.data(), m.rows};
      pool.run([&](int th, int nt) {
        int64_t b, e;
        split_range(m.rows, th, nt, 16, &b, &e);
        if (b < e) fn(a, b, e);
      });
    }
  };
  auto run_reads = [&] {
    for (const Matrix& m : ms) {
      const int64_t n = static_cast<int64_t>(m.row_bytes * m.rows / 4) & ~int64_t{1023};
      const float* p = reinterpret_cast<const float*>(m.w);
      pool.run([&](int th, int nt) {
        int64_t b, e;
        split_range(n, th, nt, 1024, &b, &e);
        if (e > b) sink = sink + read(p + b, static_cast<size_t>(e - b));
      });
    }
  };
  // The first pass over fresh memory runs at about half speed (pages settling, cold TLBs).
  run_matmuls();
  run_reads();
  double matmul_s = 0.0, read_s = 0.0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    run_matmuls();
    matmul_s += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    run_reads();
    read_s += seconds_since(t0);
  }
  for (Matrix& m : ms) std::free(m.w);
  const double it = static_cast<double>(state.iterations());
  state.counters["matmul_GB/s"] = static_cast<double>(total) * it / matmul_s / 1e9;
  state.counters["read_GB/s"] = static_cast<double>(total) * it / read_s / 1e9;
  state.counters["of_read"] = read_s / matmul_s;
}

BENCHMARK_CAPTURE(BM_DecodeStream, q8_0, DType::kQ8_0)->Unit(benchmark::kMillisecond)->Iterations(8);
BENCHMARK_CAPTURE(BM_DecodeStream, q4_0, DType::kQ4_0)->Unit(benchmark::kMillisecond)->Iterations(8);
BENCHMARK_CAPTURE(BM_DecodeStream, q4_k, DType::kQ4_K)->Unit(benchmark::kMillisecond)->Iterations(8);
BENCHMARK_CAPTURE(BM_DecodeStream, q6_k, DType::kQ6_K)->Unit(benchmark::kMillisecond)->Iterations(8);

}  // namespace
}  // namespace moeinfer
