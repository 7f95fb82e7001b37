#include "engine/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "kernels/memread/memread.h"

namespace moeinfer {

ReadBandwidthProbe::ReadBandwidthProbe(ThreadPool& pool, Isa isa, uint64_t bytes) : pool_(pool), isa_(isa) {
  n_ = static_cast<int64_t>(bytes / sizeof(float)) & ~int64_t{1023};
  if (n_ <= 0) return;
  buf_ = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(n_) * sizeof(float)));
  if (!buf_) return;
  // First touch by the threads that will read (page placement), with nonzero data.
  float* buf = buf_;
  const int64_t n = n_;
  pool_.run([&](int t, int nt) {
    int64_t b, e;
    split_range(n, t, nt, 1024, &b, &e);
    std::fill(buf + b, buf + e, 1.0f);
  });
}

ReadBandwidthProbe::~ReadBandwidthProbe() { std::free(buf_); }

double ReadBandwidthProbe::pass() {
  if (!buf_) return 0.0;
  // An untimed read first: between passes the buffer sits idle, and a host that pages out cold
  // memory (this VM runs DAMON's pageout scheme) would otherwise time page faults. Then the better
  // of a plain read and one with the decode kernels' software prefetch: which one streams faster
  // depends on the machine (and, on a shared one, on the minute).
  double best = 0.0;
  for (int i = 0; i < 3; ++i) {
    const bool prefetch = i == 2;
    const MemreadFn fn = select_memread(isa_, prefetch);
    const float* buf = buf_;
    const int64_t n = n_;
    volatile float sink = 0.0f;
    const auto t0 = std::chrono::steady_clock::now();
    pool_.run([&](int t, int nt) {
      int64_t b, e;
      split_range(n, t, nt, 1024, &b, &e);
      if (e > b) sink = sink + fn(buf + b, static_cast<size_t>(e - b));
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (i > 0) best = std::max(best, static_cast<double>(n) * sizeof(float) / s / 1e9);
  }
  return best;
}

double measure_read_bandwidth(ThreadPool& pool, Isa isa, uint64_t bytes, int passes) {
  ReadBandwidthProbe probe(pool, isa, bytes);
  double best = 0.0;
  for (int p = 0; p < passes; ++p) best = std::max(best, probe.pass());
  return best;
}

}  // namespace moeinfer
