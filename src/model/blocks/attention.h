// Multi-head attention with grouped KV heads (MHA when n_kv_heads == n_heads), RoPE, causal mask
// and an optional sliding window. Input: s.xb [n][dim] (already normed). Output: s.out [n][dim].
#pragma once
#include "model/transformer.h"

namespace moeinfer {

void attention_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                     KvCache& cache, RunState& s, int64_t n, int64_t pos0);

}  // namespace moeinfer
