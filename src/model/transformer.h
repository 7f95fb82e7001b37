// The transformer forward pass, composed per layer from blocks chosen by the config:
//   x = embed(tokens); for each layer: x += attn(rmsnorm(x)); x += ffn(rmsnorm(x));
//   logits = output · rmsnorm(x)
// attn is standard GQA attention or MLA (config.mla; naive or absorbed form); ffn is the dense
// SwiGLU or MoE (config.layer_is_moe). A batch of n tokens at positions pos0 .. pos0+n-1 runs as
// matmuls over all n rows (prefill); n == 1 is decode. Every buffer lives in RunState, allocated
// once for a maximum batch.
#pragma once
#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/config.h"
#include "model/weights.h"
#include "runtime/kv_cache.h"

namespace moeinfer {

struct ForwardContext {
  const Kernels& kernels;
  ThreadPool& pool;
  bool mla_absorbed = true;  // MLA form: absorbed (latent cache) or naive (per-head K/V cache)
};

// The K/V row sizes a cache needs for this config and MLA form.
void kv_cache_dims(const ModelConfig& c, bool mla_absorbed, int64_t* k_dim, int64_t* v_dim);

// Activation buffers for up to max_batch tokens (F32, row-major [token][feature]).
struct RunState {
  RunState(const ModelConfig& c, int64_t max_batch, int64_t max_ctx, int n_threads);
  int64_t max_batch;
  std::vector<float> x;       // [B][dim] residual stream
  std::vector<float> xb;      // [B][dim] normed input of a block
  std::vector<float> q;       // [B][n_heads * head_dim] (MLA: head_dim = nope + rope)
  std::vector<float> k, v;    // [B][n_kv_heads * head_dim]; naive MLA: [B][n_heads * (nope|v)]
  std::vector<float> att;     // [B][n_heads * max(head_dim, v_head)] attention output before wo
  std::vector<float> out;     // [B][dim] block output before the residual add
  std::vector<float> h1, h3;  // [B][max ffn] gate / up
  std::vector<float> scores;  // [n_threads][max_ctx] attention scratch
  std::vector<float> inv_freq;  // [n_rot / 2] RoPE inverse frequencies (scaling applied)
  // MLA
  std::vector<float> q_a;      // [B][q_lora_rank]
  std::vector<float> kv_a;     // [B][kv_lora_rank + rope]
  std::vector<float> latent;   // [B][kv_lora_rank] rmsnorm(c)
  std::vector<float> kv_b;     // [B][n_heads * (nope + v_head)] naive: expanded K/V
  std::vector<float> q_abs;    // [B][n_heads][kv_lora_rank] absorbed query
  std::vector<float> att_lat;  // [B][n_heads][kv_lora_rank] attention output in latent space
  // MoE
  std::vector<float> router;   // [B][n_experts] scores
  std::vector<int32_t> route_ids;   // [B][top_k]
  std::vector<float> route_w;       // [B][top_k]
  std::vector<float> route_scratch; // [3 * n_experts]
  std::vector<int32_t> expert_tokens;  // [n_experts][B] token indices per expert
  std::vector<float> expert_tok_w;     // [n_experts][B] their weights
  std::vector<int64_t> expert_count;   // [n_experts]
  std::vector<float> xg;       // [B][dim] gathered rows for one expert
  std::vector<float> yg;       // [B][dim] that expert's output
  std::vector<float> moe_acc;  // [B][dim] routed sum
};

// Runs n tokens through the model, writing their K/V at positions pos0.. into the cache.
// logits: [n_out][n_vocab] where n_out = n when all_logits, else 1 (the last token); nullptr
// skips the output head (a prompt chunk whose logits nobody reads).
// hidden (optional): [n][dim] receives every row's final hidden state after the output norm.
void forward(const ForwardContext& ctx, const ModelConfig& c, const ModelWeights& w, KvCache& cache, RunState& s,
             const int32_t* tokens, int64_t n, int64_t pos0, bool all_logits, float* logits,
             float* hidden = nullptr);

// One transformer layer over s.x (in place): x += attn(rmsnorm(x)); x += ffn(rmsnorm(x)).
// cache_layer selects the cache rows (the MTP block uses its own cache's layer 0).
void layer_forward(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                   bool is_moe, int64_t cache_layer, KvCache& cache, RunState& s, int64_t n, int64_t pos0);

}  // namespace moeinfer
