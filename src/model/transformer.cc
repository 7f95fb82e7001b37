#include "model/transformer.h"

#include <algorithm>
#include <cmath>

#include "base/profiler.h"
#include "kernels/ops.h"
#include "model/blocks/attention.h"
#include "model/blocks/ffn.h"
#include "model/blocks/mla.h"
#include "model/blocks/moe.h"
#include "model/rope.h"

namespace moeinfer {

void kv_cache_dims(const ModelConfig& c, bool absorbed, int64_t* k_dim, int64_t* v_dim) {
  if (!c.mla) {
    *k_dim = *v_dim = c.attn.n_kv_heads * c.attn.head_dim;
  } else if (absorbed) {
    *k_dim = c.mla->kv_lora_rank;
    *v_dim = c.mla->qk_rope_dim;
  } else {
    *k_dim = c.attn.n_heads * (c.mla->qk_nope_dim + c.mla->qk_rope_dim);
    *v_dim = c.attn.n_heads * c.mla->v_head_dim;
  }
}

namespace {
size_t sz(int64_t a, int64_t b) { return static_cast<size_t>(a * b); }
}  // namespace

RunState::RunState(const ModelConfig& c, int64_t b, int64_t max_ctx, int n_threads) : max_batch(b) {
  const int64_t nh = c.attn.n_heads;
  const int64_t window_ctx = c.attn.sliding_window > 0 ? std::min(c.attn.sliding_window, max_ctx) : max_ctx;
  int64_t kv = c.attn.n_kv_heads * c.attn.head_dim, att_w = nh * c.attn.head_dim, ffn = c.ffn_dim;
  if (c.mla) {
    const MlaConfig& m = *c.mla;
    kv = std::max({nh * (m.qk_nope_dim + m.qk_rope_dim), nh * m.v_head_dim, m.kv_lora_rank, m.qk_nope_dim});
    att_w = std::max(att_w, nh * m.v_head_dim);
    q_a.resize(sz(b, std::max<int64_t>(m.q_lora_rank, 1)));
    kv_a.resize(sz(b, m.kv_lora_rank + m.qk_rope_dim));
    latent.resize(sz(b, m.kv_lora_rank));
    kv_b.resize(sz(b, nh * (m.qk_nope_dim + m.v_head_dim)));
    q_abs.resize(sz(b, nh * m.kv_lora_rank));
    att_lat.resize(sz(b, nh * m.kv_lora_rank));
  }
  if (c.moe) {
    const MoeConfig& e = *c.moe;
    ffn = std::max({ffn, e.expert_ffn_dim, e.n_shared_experts * e.expert_ffn_dim});
    router.resize(sz(b, e.n_experts));
    route_ids.resize(sz(b, e.n_experts_per_tok));
    route_w.resize(sz(b, e.n_experts_per_tok));
    route_scratch.resize(sz(3, e.n_experts));
    expert_tokens.resize(sz(e.n_experts, b));
    expert_tok_w.resize(sz(e.n_experts, b));
    expert_count.resize(e.n_experts);
    xg.resize(sz(b, c.dim));
    yg.resize(sz(b, c.dim));
    moe_acc.resize(sz(b, c.dim));
  }
  x.resize(sz(b, c.dim));
  xb.resize(sz(b, c.dim));
  q.resize(sz(b, nh * c.attn.head_dim));
  k.resize(sz(b, kv));
  v.resize(sz(b, kv));
  att.resize(sz(b, att_w));
  out.resize(sz(b, c.dim));
  h1.resize(sz(b, ffn));
  h3.resize(sz(b, ffn));
  scores.resize(sz(n_threads, window_ctx));
  inv_freq = rope_inv_freq(c.rope);
}

void layer_forward(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                   bool is_moe, int64_t cache_layer, KvCache& cache, RunState& s, int64_t n, int64_t pos0) {
  const int64_t dim = c.dim;
  rmsnorm_rows(ctx.pool, s.xb.data(), s.x.data(), lw.attn_norm, n, dim, c.norm_eps);
  if (c.mla) mla_block(ctx, c, lw.mla, cache_layer, cache, s, n, pos0);
  else attention_block(ctx, c, lw, cache_layer, cache, s, n, pos0);
  for (int64_t i = 0; i < n * dim; ++i) s.x[i] += s.out[i];
  rmsnorm_rows(ctx.pool, s.xb.data(), s.x.data(), lw.ffn_norm, n, dim, c.norm_eps);
  if (is_moe) moe_block(ctx, c, lw.moe, s, n);
  else ffn_block(ctx, c, lw, s, n);
  for (int64_t i = 0; i < n * dim; ++i) s.x[i] += s.out[i];
  (void)layer;
}

void forward(const ForwardContext& ctx, const ModelConfig& c, const ModelWeights& w, KvCache& cache, RunState& s,
             const int32_t* tokens, int64_t n, int64_t pos0, bool all_logits, float* logits, float* hidden) {
  const int64_t dim = c.dim;
  {
    ScopedOp prof(OpKind::kEmbedding);
    for (int64_t t = 0; t < n; ++t) embedding_row(s.x.data() + t * dim, w.tok_embd, tokens[t]);
  }
  for (int64_t l = 0; l < c.n_layers; ++l)
    layer_forward(ctx, c, w.layers[l], l, c.layer_is_moe(l), l, cache, s, n, pos0);
  if (hidden)  // every row's final hidden state after the output norm (MTP's input)
    for (int64_t t = 0; t < n; ++t)
      rmsnorm(hidden + t * dim, s.x.data() + t * dim, w.output_norm, dim, c.norm_eps);
  if (logits == nullptr) return;
  const int64_t first = all_logits ? 0 : n - 1;
  const int64_t n_out = n - first;
  for (int64_t t = 0; t < n_out; ++t)
    rmsnorm(s.xb.data() + t * dim, s.x.data() + (first + t) * dim, w.output_norm, dim, c.norm_eps);
  matmul(ctx.kernels, ctx.pool, w.output, s.xb.data(), n_out, logits);
}

}  // namespace moeinfer
