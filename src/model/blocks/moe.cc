#include "model/blocks/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "base/profiler.h"
#include "kernels/ops.h"
#include "model/blocks/ffn.h"
#include "model/blocks/routing.h"

namespace moeinfer {

namespace {

ExpertSource& expert_source(const ForwardContext& ctx) {
  if (!ctx.experts) throw Error("", "experts", "a MoE layer ran without an expert source");
  return *ctx.experts;
}

// The router's selection bias (nullptr when none). The bias is F32 in every known checkpoint;
// read in place when aligned, else copied.
const float* router_bias(const MoeWeights& w, const MoeConfig& e, RunState& s) {
  if (!w.gate_bias.valid()) return nullptr;
  if (w.gate_bias.type == DType::kF32 && reinterpret_cast<uintptr_t>(w.gate_bias.data) % alignof(float) == 0)
    return reinterpret_cast<const float*>(w.gate_bias.data);
  float* b = s.route_bias.data();
  for (int64_t i = 0; i < e.n_experts; ++i) {
    if (w.gate_bias.type == DType::kF32) std::memcpy(&b[i], w.gate_bias.data + 4 * i, 4);
    else b[i] = 0.0f;
  }
  return b;
}

// Router logits to scores, in place: sigmoid or softmax over the routed experts.
void score_experts(const MoeConfig& e, float* sc) {
  if (e.scoring == MoeScoring::kSigmoid) {
    for (int64_t i = 0; i < e.n_experts; ++i) sc[i] = 1.0f / (1.0f + std::exp(-sc[i]));
  } else {
    softmax(sc, e.n_experts);
  }
}

// Router: scores [n][E] after sigmoid/softmax, then top-k ids and weights per token.
void route_batch(const ForwardContext& ctx, const MoeConfig& e, const MoeWeights& w, int64_t layer, RunState& s,
                 int64_t n) {
  ScopedOp prof(OpKind::kRouting);
  matmul1(ctx, s, w.gate, s.xb.data(), n, s.router.data());
  const float* bias = router_bias(w, e, s);
  const ExpertSource& src = expert_source(ctx);
  const float tolerance = src.routing_tolerance();
  for (int64_t t = 0; t < n; ++t) {
    float* sc = s.router.data() + t * e.n_experts;
    score_experts(e, sc);
    route_experts(e, sc, bias, s.route_ids.data() + t * e.n_experts_per_tok, s.route_w.data() + t * e.n_experts_per_tok,
                  s.route_scratch.data());
    if (tolerance > 0.0f)
      substitute_resident(e, sc, bias, tolerance, [&](int32_t x) { return src.resident(layer, x); },
                          s.route_ids.data() + t * e.n_experts_per_tok, s.route_w.data() + t * e.n_experts_per_tok);
  }
}

// out = routed sum (moe_acc) + the shared experts' output, which is already in out when `shared`.
void combine_shared(RunState& s, int64_t n, int64_t dim, bool shared) {
  if (shared) {
    for (int64_t i = 0; i < n * dim; ++i) s.out[i] = s.moe_acc[i] + s.out[i];
  } else {
    std::memcpy(s.out.data(), s.moe_acc.data(), n * dim * sizeof(float));
  }
}

void add_shared(const ForwardContext& ctx, const MoeConfig& e, const MoeWeights& w, RunState& s, int64_t n,
                int64_t dim) {
  const bool shared = e.n_shared_experts > 0;
  if (shared)
    swiglu_ffn(ctx, s, w.shared.w1, w.shared.w2, w.shared.w3, s.xb.data(), n, s.h1.data(), s.h3.data(), s.out.data());
  combine_shared(s, n, dim, shared);
}

}  // namespace

void moe_block(const ForwardContext& ctx, const ModelConfig& c, const MoeWeights& w, int64_t layer, RunState& s,
               int64_t n) {
  const MoeConfig& e = *c.moe;
  const int64_t dim = c.dim, k = e.n_experts_per_tok, B = s.max_batch, fe = e.expert_ffn_dim;
  route_batch(ctx, e, w, layer, s, n);
  // Group tokens by expert.
  for (int64_t x = 0; x < e.n_experts; ++x) s.expert_count[x] = 0;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t j = 0; j < k; ++j) {
      const int32_t x = s.route_ids[t * k + j];
      const int64_t slot = s.expert_count[x]++;
      s.expert_tokens[x * B + slot] = static_cast<int32_t>(t);
      s.expert_tok_w[x * B + slot] = s.route_w[t * k + j];
    }
  // The active experts' rows, gathered expert after expert.
  int64_t n_active = 0, rows = 0;
  for (int64_t x = 0; x < e.n_experts; ++x) {
    if (s.expert_count[x] == 0) continue;
    s.active_experts[n_active++] = static_cast<int32_t>(x);
    s.expert_row0[x] = rows;
    for (int64_t i = 0; i < s.expert_count[x]; ++i)
      std::memcpy(s.xg.data() + (rows + i) * dim, s.xb.data() + s.expert_tokens[x * B + i] * dim, dim * sizeof(float));
    rows += s.expert_count[x];
  }
  // Gate and up of every active expert and of the shared experts as one list, SwiGLU over all of
  // it, then every down projection as a second list: two barriers per layer, not three per expert.
  // An expert source with fewer slots than active experts (an expert cache) takes them in turns.
  ExpertSource& src = expert_source(ctx);
  const int64_t cap = std::max<int64_t>(1, src.capacity(layer));
  const bool shared = e.n_shared_experts > 0;
  const int64_t fs = e.n_shared_experts * fe;  // shared ffn width
  float* sh1 = s.moe_h1.data() + rows * fe;     // the shared experts' part, after the routed rows
  float* sh3 = s.moe_h3.data() + rows * fe;
  for (int64_t a0 = 0; a0 < n_active; a0 += cap) {  // n_active >= 1: every token routes somewhere
    const int64_t a1 = std::min(n_active, a0 + cap);
    const bool with_shared = shared && a0 == 0;
    src.acquire(layer, s.active_experts.data() + a0, a1 - a0, s.expert_views.data() + a0);
    if (a0 == 0) flush_prediction(ctx, s);
    const int64_t r_begin = s.expert_row0[s.active_experts[a0]];
    const int64_t r_end = s.expert_row0[s.active_experts[a1 - 1]] + s.expert_count[s.active_experts[a1 - 1]];
    s.jobs.clear();
    for (int64_t a = a0; a < a1; ++a) {
      const int64_t x = s.active_experts[a], r0 = s.expert_row0[x], cnt = s.expert_count[x];
      const FfnWeights& f = *s.expert_views[a];
      s.jobs.push_back({&f.w1, s.xg.data() + r0 * dim, cnt, s.moe_h1.data() + r0 * fe});
      s.jobs.push_back({&f.w3, s.xg.data() + r0 * dim, cnt, s.moe_h3.data() + r0 * fe});
    }
    if (with_shared) {
      s.jobs.push_back({&w.shared.w1, s.xb.data(), n, sh1});
      s.jobs.push_back({&w.shared.w3, s.xb.data(), n, sh3});
    }
    matmul_jobs(ctx, s, s.jobs.data(), static_cast<int64_t>(s.jobs.size()));
    // One SwiGLU pass over this turn's routed rows and, when they follow directly, the shared rows.
    const bool contiguous = with_shared && r_end == rows;
    swiglu_rows(ctx, s.moe_h1.data() + r_begin * fe, s.moe_h3.data() + r_begin * fe,
                (r_end - r_begin) * fe + (contiguous ? n * fs : 0));
    if (with_shared && !contiguous) swiglu_rows(ctx, sh1, sh3, n * fs);
    s.jobs.clear();
    for (int64_t a = a0; a < a1; ++a) {
      const int64_t x = s.active_experts[a], r0 = s.expert_row0[x], cnt = s.expert_count[x];
      s.jobs.push_back({&s.expert_views[a]->w2, s.moe_h1.data() + r0 * fe, cnt, s.yg.data() + r0 * dim});
    }
    if (with_shared) s.jobs.push_back({&w.shared.w2, sh1, n, s.out.data()});
    matmul_jobs(ctx, s, s.jobs.data(), static_cast<int64_t>(s.jobs.size()));
    src.release(layer);
  }
  // Weighted sum of the routed outputs in increasing expert id order (model.py's loop), then the
  // shared experts' output, unweighted.
  std::memset(s.moe_acc.data(), 0, n * dim * sizeof(float));
  for (int64_t a = 0; a < n_active; ++a) {
    const int64_t x = s.active_experts[a], r0 = s.expert_row0[x];
    for (int64_t i = 0; i < s.expert_count[x]; ++i) {
      float* acc = s.moe_acc.data() + s.expert_tokens[x * B + i] * dim;
      const float* y = s.yg.data() + (r0 + i) * dim;
      const float wt = s.expert_tok_w[x * B + i];
      for (int64_t j = 0; j < dim; ++j) acc[j] += y[j] * wt;
    }
  }
  combine_shared(s, n, dim, shared);
}

void predict_next_experts(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& next,
                          int64_t next_layer, RunState& s, int64_t n) {
  ScopedOp prof(OpKind::kRouting);
  const MoeConfig& e = *c.moe;
  const int64_t dim = c.dim;
  rmsnorm_rows(ctx.pool, s.xg.data(), s.x.data(), next.ffn_norm, n, dim, c.norm_eps);
  matmul1(ctx, s, next.moe.gate, s.xg.data(), n, s.router.data());
  const float* bias = router_bias(next.moe, e, s);
  MoeConfig wide = e;  // top-k + margin, within the groups that routing keeps
  int64_t kk = e.n_experts_per_tok + std::max<int64_t>(0, ctx.experts->prediction_margin());
  if (e.n_group > 1) kk = std::min(kk, e.topk_group * (e.n_experts / e.n_group));
  wide.n_experts_per_tok = std::min(kk, e.n_experts);
  wide.norm_topk_prob = false;
  wide.routed_scaling_factor = 1.0f;
  for (int64_t x = 0; x < e.n_experts; ++x) s.pred_like[x] = 0.0f;
  for (int64_t t = 0; t < n; ++t) {
    float* sc = s.router.data() + t * e.n_experts;
    score_experts(e, sc);
    route_experts(wide, sc, bias, s.pred_ids.data(), s.pred_w.data(), s.route_scratch.data());
    for (int64_t j = 0; j < wide.n_experts_per_tok; ++j) s.pred_like[s.pred_ids[j]] += std::max(s.pred_w[j], 1e-6f);
  }
  int64_t m = 0;
  for (int64_t x = 0; x < e.n_experts; ++x)
    if (s.pred_like[x] > 0.0f) {
      s.pred_ids[m] = static_cast<int32_t>(x);
      s.pred_w[m++] = s.pred_like[x];
    }
  s.pred_layer = next_layer;
  s.n_pred = m;
}

void flush_prediction(const ForwardContext& ctx, RunState& s) {
  if (s.n_pred == 0) return;
  ctx.experts->prefetch(s.pred_layer, s.pred_ids.data(), s.pred_w.data(), s.n_pred);
  s.n_pred = 0;
}

void moe_block_per_token(const ForwardContext& ctx, const ModelConfig& c, const MoeWeights& w, int64_t layer,
                         RunState& s, int64_t n) {
  const MoeConfig& e = *c.moe;
  const int64_t dim = c.dim, k = e.n_experts_per_tok;
  route_batch(ctx, e, w, layer, s, n);
  std::memset(s.moe_acc.data(), 0, n * dim * sizeof(float));
  ExpertSource& src = expert_source(ctx);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t j = 0; j < k; ++j) {
      const FfnWeights* fp = nullptr;
      src.acquire(layer, &s.route_ids[t * k + j], 1, &fp);
      const FfnWeights& f = *fp;
      swiglu_ffn(ctx, s, f.w1, f.w2, f.w3, s.xb.data() + t * dim, 1, s.h1.data(), s.h3.data(), s.yg.data());
      const float wt = s.route_w[t * k + j];
      for (int64_t i = 0; i < dim; ++i) s.moe_acc[t * dim + i] += s.yg[i] * wt;
      src.release(layer);
    }
  add_shared(ctx, e, w, s, n, dim);
}

}  // namespace moeinfer
