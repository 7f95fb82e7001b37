// Mixture-of-experts FFN (DeepSeek MoE): router -> route_experts (routing.h) -> routed experts
// weighted and summed -> plus the shared experts, unweighted. Input s.xb [n][dim], output
// s.out [n][dim].
//  - moe_block: expert-grouped execution. The tokens routed to each expert are gathered and the
//    expert runs once over all of them (one matmul per weight per batch, so each expert's weights
//    are read once per batch, not once per token); outputs are scattered back with their weights,
//    experts in increasing id order (as model.py's loop adds them). Decode runs only the chosen.
//  - moe_block_per_token: the slow, obvious form (every token, every chosen expert, one row at a
//    time), kept to test the grouped form against.
#pragma once
#include "model/transformer.h"

namespace moeinfer {

// layer: the model layer (0.., then n_layers + k for MTP block k); routed experts come from
// ctx.experts for that layer, the router and shared experts from w.
void moe_block(const ForwardContext& ctx, const ModelConfig& c, const MoeWeights& w, int64_t layer, RunState& s,
               int64_t n);
// The predictor of an expert cache (ExpertSource::wants_prediction): applies the router of the
// next MoE layer `next_layer` (weights `next`) to the residual stream s.x as it enters this
// layer's FFN, normalized with the next layer's ffn_norm (the stream changes little from one layer
// to the next), and hands the top-k + margin experts of each token, with their summed
// probabilities, to ctx.experts->prefetch(), once this layer's own experts are acquired (so that
// its demand loads go first: flush_prediction). Uses s.xg and s.router as scratch.
void predict_next_experts(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& next,
                          int64_t next_layer, RunState& s, int64_t n);
// Hands a pending prediction to ctx.experts->prefetch() (moe_block calls it after its first
// acquire; a dense layer's caller after its FFN).
void flush_prediction(const ForwardContext& ctx, RunState& s);
void moe_block_per_token(const ForwardContext& ctx, const ModelConfig& c, const MoeWeights& w, int64_t layer,
                         RunState& s, int64_t n);

}  // namespace moeinfer
