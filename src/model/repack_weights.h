// Load-time weight layout for speed (`--repack auto|on|off`): quantized matrices that a kernel
// prefers interleaved (Q8_0, Q4_0 and Q4_K with the AVX-512 VNNI kernels: Layout::kRows8, see
// tensor/repack.h) are copied once into that layout in anonymous memory (transparent huge pages
// requested), the views are pointed at the copy, and the mapped original pages are released
// (MADV_DONTNEED), so resident memory does not double. The file format is unchanged.
//
// Repacked weights can no longer be paged back to the file under memory pressure, so `auto`
// repacks only when the copies fit comfortably in the memory available now (at most half of
// MemAvailable); `on` repacks regardless, `off` runs every kernel straight from the mapping.
// Only matrices used through matmul are repacked (attention and FFN projections, experts, the
// output head and a tied embedding table); rows must come in groups of 8.
#pragma once
#include <cstdint>
#include <string>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/weights.h"

namespace moeinfer {

enum class RepackMode { kAuto, kOn, kOff };

// "auto", "on", "off"; throws UsageError(option, ...) otherwise.
RepackMode parse_repack_mode(const std::string& text, const std::string& option);
const char* repack_mode_name(RepackMode m);

struct RepackReport {
  RepackMode mode = RepackMode::kAuto;
  int64_t tensors = 0;    // matrices repacked
  uint64_t bytes = 0;     // their size
  int64_t eligible = 0;   // matrices a kernel would take interleaved
  uint64_t eligible_bytes = 0;
  std::string skipped;    // why nothing was repacked, when eligible > 0 and tensors == 0
};

// Whether a kernel takes this matrix in the interleaved layout (so repacking it pays).
bool repack_eligible(const TensorView& t, const Kernels& k);

// routed_experts = false leaves the routed experts as they are (an expert cache repacks each one
// as it loads it into a slot).
RepackReport repack_weights(ModelWeights* w, const Kernels& k, RepackMode mode, ThreadPool& pool,
                            bool routed_experts = true);

}  // namespace moeinfer
