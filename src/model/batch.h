// What one forward pass runs: flat rows of (token, position, sequence id), some of which want
// logits. Rows of one sequence appear in ascending, consecutive positions (the engine builds
// batches that way); a batch may mix sequences, prefill chunks of some and decode tokens of others.
// Each row attends only to its own sequence's positions [lo, pos] (lo > 0 with a sliding window).
#pragma once
#include <cstdint>

namespace moeinfer {

struct ForwardBatch {
  int64_t n = 0;                   // rows
  const int32_t* tokens = nullptr; // [n]
  const int64_t* pos = nullptr;    // [n] position of each row in its sequence
  const int32_t* seq = nullptr;    // [n] sequence id (an index into KvView::seqs)
  const int64_t* out_rows = nullptr;  // [n_out] ascending rows whose logits are computed
  int64_t n_out = 0;
};

// A maximal run of rows of one sequence at consecutive positions: rows [row0, row0 + n) at
// positions pos0 .. pos0 + n - 1. Attention runs per segment (long ones in tiles).
struct BatchSegment {
  int64_t row0 = 0, n = 0, pos0 = 0;
  int32_t seq = 0;
};

}  // namespace moeinfer
