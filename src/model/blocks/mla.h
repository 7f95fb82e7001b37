// Multi-head Latent Attention (DeepSeek-V2/V3, model.py MLA), two forms of one function:
//  - naive: expand every cached latent into per-head keys [k_nope | k_rope] and values through
//    wkv_b; the cache holds the expanded K/V (n_heads·(nope+rope) + n_heads·v floats per token).
//  - absorbed (default): fold wkv_b into the query (q_abs = W_ukᵀ·q_nope) and into the output
//    (o = W_uv·Σ a·c); the cache holds only rmsnorm(c) and the rotated k_rope
//    (kv_lora_rank + qk_rope floats per token).
// Scores = (q_nope·k_nope + q_rope·k_rope) · softmax_scale in both. RoPE (interleaved pairs) is
// applied to the rope part of q and to k_rope. Input s.xb [n][dim]; output s.out [n][dim].
#pragma once
#include "model/transformer.h"

namespace moeinfer {

// Each row's cache entry is written into the KV store first, then every row attends to its own
// sequence's positions [0, pos].
void mla_block(const ForwardContext& ctx, const ModelConfig& c, const MlaWeights& w, int64_t layer, const KvView& kv,
               RunState& s, const ForwardBatch& b);

}  // namespace moeinfer
