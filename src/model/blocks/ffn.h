// SwiGLU feed-forward: out = w2 · (silu(w1 · x) ⊙ (w3 · x)). Input s.xb [n][dim], output s.out [n][dim].
#pragma once
#include "model/transformer.h"

namespace moeinfer {

void ffn_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, RunState& s, int64_t n);

}  // namespace moeinfer
