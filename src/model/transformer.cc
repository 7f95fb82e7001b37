#include "model/transformer.h"

#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "model/blocks/attention.h"
#include "model/blocks/ffn.h"
#include "model/rope.h"

namespace moeinfer {

RunState::RunState(const ModelConfig& c, int64_t b, int64_t max_ctx, int n_threads)
    : max_batch(b),
      x(b * c.dim),
      xb(b * c.dim),
      q(b * c.attn.n_heads * c.attn.head_dim),
      k(b * c.attn.n_kv_heads * c.attn.head_dim),
      v(b * c.attn.n_kv_heads * c.attn.head_dim),
      att(b * c.attn.n_heads * c.attn.head_dim),
      out(b * c.dim),
      h1(b * c.ffn_dim),
      h3(b * c.ffn_dim),
      scores(static_cast<size_t>(n_threads) *
             (c.attn.sliding_window > 0 ? std::min(c.attn.sliding_window, max_ctx) : max_ctx)),
      inv_freq(rope_inv_freq(c.rope)) {}

void forward(const ForwardContext& ctx, const ModelConfig& c, const ModelWeights& w, KvCache& cache, RunState& s,
             const int32_t* tokens, int64_t n, int64_t pos0, bool all_logits, float* logits) {
  const int64_t dim = c.dim;
  for (int64_t t = 0; t < n; ++t) embedding_row(s.x.data() + t * dim, w.tok_embd, tokens[t]);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    for (int64_t t = 0; t < n; ++t)
      rmsnorm(s.xb.data() + t * dim, s.x.data() + t * dim, lw.attn_norm, dim, c.norm_eps);
    attention_block(ctx, c, lw, l, cache, s, n, pos0);
    for (int64_t i = 0; i < n * dim; ++i) s.x[i] += s.out[i];
    for (int64_t t = 0; t < n; ++t)
      rmsnorm(s.xb.data() + t * dim, s.x.data() + t * dim, lw.ffn_norm, dim, c.norm_eps);
    ffn_block(ctx, c, lw, s, n);
    for (int64_t i = 0; i < n * dim; ++i) s.x[i] += s.out[i];
  }
  if (logits == nullptr) return;
  const int64_t first = all_logits ? 0 : n - 1;
  const int64_t n_out = n - first;
  for (int64_t t = 0; t < n_out; ++t)
    rmsnorm(s.xb.data() + t * dim, s.x.data() + (first + t) * dim, w.output_norm, dim, c.norm_eps);
  matmul(ctx.kernels, ctx.pool, w.output, s.xb.data(), n_out, logits);
}

}  // namespace moeinfer
