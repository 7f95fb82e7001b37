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

void matmul_jobs(const ForwardContext& ctx, RunState& s, const MatmulJob* jobs, int64_t n) {
  matmul_list(ctx.kernels, ctx.pool, jobs, n, s.mm);
}

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
    route_bias.resize(e.n_experts);
    expert_tokens.resize(sz(e.n_experts, b));
    expert_tok_w.resize(sz(e.n_experts, b));
    expert_count.resize(e.n_experts);
    active_experts.resize(e.n_experts);
    expert_views.resize(e.n_experts);
    pred_ids.resize(e.n_experts);
    pred_w.resize(e.n_experts);
    pred_like.resize(e.n_experts);
    const int64_t routed_rows = b * e.n_experts_per_tok;
    xg.resize(sz(routed_rows, c.dim));
    yg.resize(sz(routed_rows, c.dim));
    moe_h1.resize(sz(routed_rows, e.expert_ffn_dim) + sz(b, e.n_shared_experts * e.expert_ffn_dim));
    moe_h3.resize(moe_h1.size());
    expert_row0.resize(e.n_experts);
    jobs.reserve(static_cast<size_t>(2 * (e.n_experts + 1)));
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
  // Matmul lists: the widest input and the most rows one list quantizes (a MoE layer's experts
  // plus its shared expert), the most items (two matrices per expert, one range per thread).
  int64_t cols = std::max({c.dim, ffn, att_w, c.attn.n_heads * c.attn.head_dim});
  if (c.mla) cols = std::max({cols, c.mla->kv_lora_rank, c.mla->q_lora_rank});
  const int64_t k_routed = c.moe ? c.moe->n_experts_per_tok + 1 : 1;
  const int64_t max_jobs = c.moe ? 2 * (c.moe->n_experts + 1) : 4;
  mm.reserve(matmul_scratch_bytes(b * k_routed + b, cols), max_jobs * n_threads, max_jobs);
  const int64_t n_rot = c.mla ? c.mla->qk_rope_dim : c.rope.n_rot;
  rope_cs.resize(sz(b, std::max<int64_t>(n_rot, 2)));
  segs.resize(static_cast<size_t>(b));
  short_rows.resize(static_cast<size_t>(b));
  if (!c.mla) {  // tiled prefill attention: a segment sees at most window - 1 + max_batch keys
    const int64_t kv_dim = c.attn.n_kv_heads * c.attn.head_dim, hd = c.attn.head_dim;
    const int64_t group = c.attn.n_heads / std::max<int64_t>(1, c.attn.n_kv_heads);
    max_keys = c.attn.sliding_window > 0 ? std::min(max_ctx, c.attn.sliding_window + b) : max_ctx;
    const int64_t max_rows = std::max<int64_t>(16, group) + group;
    tile_floats = max_rows * max_keys + 2 * max_rows * hd;
    att_kt.reset(sz(kv_dim, max_keys));
    att_vals.reset(sz(kv_dim, max_keys));
    att_tiles.reset(sz(n_threads, tile_floats));
  }
}

void prepare_batch(const ModelConfig& c, const ForwardBatch& b, RunState& s) {
  s.n_segs = 0;
  s.n_short = 0;
  for (int64_t t = 0; t < b.n; ++t) {
    BatchSegment* last = s.n_segs ? &s.segs[s.n_segs - 1] : nullptr;
    if (last && last->seq == b.seq[t] && last->pos0 + last->n == b.pos[t]) {
      ++last->n;
    } else {
      s.segs[s.n_segs++] = BatchSegment{t, 1, b.pos[t], b.seq[t]};
    }
  }
  // Segments shorter than 4 rows are attended one query at a time; longer ones in tiles.
  for (int64_t g = 0; g < s.n_segs; ++g)
    if (s.segs[g].n < 4)
      for (int64_t t = s.segs[g].row0; t < s.segs[g].row0 + s.segs[g].n; ++t) s.short_rows[s.n_short++] = t;
  const int64_t n_rot = c.mla ? c.mla->qk_rope_dim : c.rope.n_rot;
  ScopedOp prof(OpKind::kRope);
  for (int64_t t = 0; t < b.n; ++t) rope_cos_sin(s.inv_freq.data(), n_rot, b.pos[t], s.rope_cs.data() + t * n_rot);
}

void layer_forward(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                   bool is_moe, int64_t kv_layer, const KvView& kv, RunState& s, const ForwardBatch& b,
                   const LayerWeights* next) {
  const int64_t dim = c.dim, n = b.n;
  rmsnorm_rows(ctx.pool, s.xb.data(), s.x.data(), lw.attn_norm, n, dim, c.norm_eps);
  if (c.mla) mla_block(ctx, c, lw.mla, kv_layer, kv, s, b);
  else attention_block(ctx, c, lw, kv_layer, kv, s, b);
  for (int64_t i = 0; i < n * dim; ++i) s.x[i] += s.out[i];
  if (next && ctx.experts && ctx.experts->wants_prediction()) predict_next_experts(ctx, c, *next, layer + 1, s, n);
  rmsnorm_rows(ctx.pool, s.xb.data(), s.x.data(), lw.ffn_norm, n, dim, c.norm_eps);
  if (is_moe) moe_block(ctx, c, lw.moe, layer, s, n);
  else ffn_block(ctx, c, lw, s, n);
  if (s.n_pred > 0) flush_prediction(ctx, s);
  for (int64_t i = 0; i < n * dim; ++i) s.x[i] += s.out[i];
}

void forward(const ForwardContext& ctx, const ModelConfig& c, const ModelWeights& w, const KvView& kv, RunState& s,
             const ForwardBatch& b, float* logits, float* hidden) {
  const int64_t dim = c.dim, n = b.n;
  prepare_batch(c, b, s);
  {
    ScopedOp prof(OpKind::kEmbedding);
    for (int64_t t = 0; t < n; ++t) embedding_row(s.x.data() + t * dim, w.tok_embd, b.tokens[t]);
  }
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights* next = l + 1 < c.n_layers && c.layer_is_moe(l + 1) ? &w.layers[l + 1] : nullptr;
    layer_forward(ctx, c, w.layers[l], l, c.layer_is_moe(l), l, kv, s, b, next);
  }
  if (hidden)  // every row's final hidden state after the output norm (MTP's input)
    for (int64_t t = 0; t < n; ++t)
      rmsnorm(hidden + t * dim, s.x.data() + t * dim, w.output_norm, dim, c.norm_eps);
  if (logits == nullptr || b.n_out == 0) return;
  for (int64_t i = 0; i < b.n_out; ++i)
    rmsnorm(s.xb.data() + i * dim, s.x.data() + b.out_rows[i] * dim, w.output_norm, dim, c.norm_eps);
  matmul1(ctx, s, w.output, s.xb.data(), b.n_out, logits);
}

}  // namespace moeinfer
