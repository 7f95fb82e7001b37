#include "runtime/bandwidth.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "kernels/memread/memread.h"

namespace moeinfer {

double measure_read_bandwidth(ThreadPool& pool, Isa isa, uint64_t bytes, int passes) {
  const size_t n = static_cast<size_t>(bytes / sizeof(float)) & ~size_t{1023};
  float* buf = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  if (!buf) return 0.0;
  std::unique_ptr<float, decltype(&std::free)> guard(buf, &std::free);
  const MemreadFn fn = select_memread(isa);
  // First touch by the threads that will read (page placement), with nonzero data.
  pool.run([&](int t, int nt) {
    int64_t b, e;
    split_range(static_cast<int64_t>(n), t, nt, 1024, &b, &e);
    for (int64_t i = b; i < e; ++i) buf[i] = 1.0f;
  });
  double best = 0.0;
  volatile float sink = 0.0f;
  for (int p = 0; p < passes; ++p) {
    auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int t, int nt) {
      int64_t b, e;
      split_range(static_cast<int64_t>(n), t, nt, 1024, &b, &e);
      if (e > b) sink = sink + fn(buf + b, static_cast<size_t>(e - b));
    });
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double gbs = static_cast<double>(n) * sizeof(float) / s / 1e9;
    if (gbs > best) best = gbs;
  }
  return best;
}

}  // namespace moeinfer
