// A STREAM-like read-bandwidth test: every thread of the pool sums its own slice of a buffer much
// larger than the caches; the best of several passes is reported in GB/s (1e9 bytes per second).
#pragma once
#include <cstdint>

#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace moeinfer {

double measure_read_bandwidth(ThreadPool& pool, Isa isa, uint64_t bytes = uint64_t{1} << 30, int passes = 5);

}  // namespace moeinfer
