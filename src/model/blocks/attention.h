// Multi-head attention with grouped KV heads (MHA when n_kv_heads == n_heads), RoPE, causal mask
// and an optional sliding window. Input: s.xb [n][dim] (already normed). Output: s.out [n][dim].
// Each row's K/V is written into the KV store first; every row then reads its own sequence's keys
// [lo, pos] from the store, so batches mixing sequences and chunks of any length are exact.
#pragma once
#include "model/transformer.h"

namespace moeinfer {

void attention_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                     const KvView& kv, RunState& s, const ForwardBatch& b);

}  // namespace moeinfer
