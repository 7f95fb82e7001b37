// The LLaMA-family forward pass, composed of blocks (attention, SwiGLU FFN) per layer.
//   x = embed(tokens); for each layer: x += attn(rmsnorm(x)); x += ffn(rmsnorm(x));
//   logits = output · rmsnorm(x)
// A batch of n tokens at positions pos0 .. pos0+n-1 runs as matmuls over all n rows (prefill);
// n == 1 is decode. Every buffer lives in RunState, allocated once for a maximum batch.
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
};

// Activation buffers for up to max_batch tokens (F32, row-major [token][feature]).
struct RunState {
  RunState(const ModelConfig& c, int64_t max_batch, int64_t max_ctx, int n_threads);
  int64_t max_batch;
  std::vector<float> x;       // [B][dim] residual stream
  std::vector<float> xb;      // [B][dim] normed input of a block
  std::vector<float> q;       // [B][n_heads * head_dim]
  std::vector<float> k, v;    // [B][n_kv_heads * head_dim]
  std::vector<float> att;     // [B][n_heads * head_dim] attention output before wo
  std::vector<float> out;     // [B][dim] block output before the residual add
  std::vector<float> h1, h3;  // [B][ffn_dim] gate / up
  std::vector<float> scores;  // [n_threads][max_ctx] attention scratch
  std::vector<float> inv_freq;  // [n_rot / 2] RoPE inverse frequencies (scaling applied)
};

// Runs n tokens through the model, writing their K/V at positions pos0.. into the cache.
// logits: [n_out][n_vocab] where n_out = n when all_logits, else 1 (the last token); nullptr
// skips the output head (a prompt chunk whose logits nobody reads).
void forward(const ForwardContext& ctx, const ModelConfig& c, const ModelWeights& w, KvCache& cache, RunState& s,
             const int32_t* tokens, int64_t n, int64_t pos0, bool all_logits, float* logits);

}  // namespace moeinfer
