// Software prefetch for decode's weight streams. Decode reads every weight byte once per token;
// the hardware prefetchers stop at each 4 KiB page and have to retrain, which cost a third of the
// bandwidth here (1B Q4_0, 2 threads: 33 -> 47 tok/s with it). Kernels call this once per weight
// block they are about to read, for tiles of one or two tokens; prefill tiles reuse their rows from
// cache and do not need it. A prefetch never faults, so running past a matrix's end is harmless.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace moeinfer {

constexpr uint64_t kStreamPrefetchBytes = 4096;

// Touches the cache lines of [p, p + bytes) one page ahead.
inline void prefetch_ahead(const void* p, uint64_t bytes) {
  const char* c = static_cast<const char*>(p) + kStreamPrefetchBytes;
  for (uint64_t off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}

}  // namespace moeinfer
