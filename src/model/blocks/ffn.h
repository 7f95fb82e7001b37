// SwiGLU feed-forward: out = w2 · (silu(w1 · x) ⊙ (w3 · x)).
#pragma once
#include "model/transformer.h"

namespace moeinfer {

// Generic form over any rows: x [n][dim] -> out [n][dim], h1/h3 scratch [n][ffn] (ffn = w1 rows).
// Gate and up run as one matmul list.
void swiglu_ffn(const ForwardContext& ctx, RunState& s, const TensorView& w1, const TensorView& w2,
                const TensorView& w3, const float* x, int64_t n, float* h1, float* h3, float* out);

// h1[i] = silu(h1[i]) · h3[i] for i < total, split over the pool for a batch.
void swiglu_rows(const ForwardContext& ctx, float* h1, const float* h3, int64_t total);

// The dense layer: input s.xb [n][dim], output s.out [n][dim].
void ffn_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, RunState& s, int64_t n);

}  // namespace moeinfer
