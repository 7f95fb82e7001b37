// A STREAM-like read-bandwidth test: every thread of the pool sums its own slice of a buffer much
// larger than the caches, in GB/s (1e9 bytes per second).
//
// On a shared machine the bandwidth a core gets moves by tens of percent from second to second, so
// `bench` pairs each decode repetition with passes of a probe taken right after it, and compares
// like with like (see cmd_bench.cc). measure_read_bandwidth is the stand-alone best of `passes`.
#pragma once
#include <cstdint>
#include <memory>

#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace moeinfer {

class ReadBandwidthProbe {
 public:
  // Allocates `bytes` (rounded down to 4 KiB) and first-touches it from the threads that will read
  // it. ok() is false when the allocation failed; pass() then returns 0.
  ReadBandwidthProbe(ThreadPool& pool, Isa isa, uint64_t bytes);
  ~ReadBandwidthProbe();
  ReadBandwidthProbe(const ReadBandwidthProbe&) = delete;
  ReadBandwidthProbe& operator=(const ReadBandwidthProbe&) = delete;

  bool ok() const { return buf_ != nullptr; }
  // The whole buffer read by all threads: once untimed (faults in pages the OS may have reclaimed
  // while it sat idle), then plainly and with software prefetch; the faster, in GB/s.
  double pass();

 private:
  ThreadPool& pool_;
  Isa isa_;
  float* buf_ = nullptr;
  int64_t n_ = 0;  // floats
};

double measure_read_bandwidth(ThreadPool& pool, Isa isa, uint64_t bytes = uint64_t{1} << 30, int passes = 5);

}  // namespace moeinfer
