#include "model/blocks/mla.h"

#include <algorithm>
#include <cstring>

#include "base/profiler.h"
#include "kernels/ops.h"

namespace moeinfer {

namespace {

struct Dims {
  int64_t nh, nope, rope, qk, vh, lora;
};

// q [n][nh][qk] with its rope part rotated; kv_a [n][lora + rope] -> latent [n][lora] (normed)
// and the rope tail of kv_a rotated in place.
void project_inputs(const ForwardContext& ctx, const ModelConfig& c, const MlaWeights& w, RunState& s, int64_t n,
                    const Dims& d) {
  const float* x = s.xb.data();
  // The projections of x in one list: q (or its low-rank q_a) and kv_a.
  const bool lora = c.mla->q_lora_rank > 0;
  const MatmulJob in[2] = {{lora ? &w.wq_a : &w.wq, x, n, lora ? s.q_a.data() : s.q.data()},
                           {&w.wkv_a, x, n, s.kv_a.data()}};
  matmul_jobs(ctx, s, in, 2);
  if (lora) {
    const int64_t r = c.mla->q_lora_rank;
    for (int64_t t = 0; t < n; ++t) rmsnorm(s.q_a.data() + t * r, s.q_a.data() + t * r, w.q_norm, r, c.norm_eps);
    matmul1(ctx, s, w.wq_b, s.q_a.data(), n, s.q.data());
  }
  const int64_t kva = d.lora + d.rope;
  for (int64_t t = 0; t < n; ++t) {
    rmsnorm(s.latent.data() + t * d.lora, s.kv_a.data() + t * kva, w.kv_norm, d.lora, c.norm_eps);
    ScopedOp rope_prof(OpKind::kRope);
    const float* cs = s.rope_cs.data() + t * d.rope;  // this row's position (prepare_batch)
    rope_interleaved(s.kv_a.data() + t * kva + d.lora, d.rope, cs);
    for (int64_t h = 0; h < d.nh; ++h) rope_interleaved(s.q.data() + (t * d.nh + h) * d.qk + d.nope, d.rope, cs);
  }
}

// softmax over its sequence's keys [0, pos] for every (row, head), combining with
// `score(t, h, k_row, v_row)` (the K and V store rows of one position) and accumulating `value(v_row,
// k_row, h)` rows of width `vw` into out[(t * nh + h) * vw]. Store rows are read block by block.
template <typename Score, typename Value>
void attend(const ForwardContext& ctx, const KvView& kv, int64_t layer, RunState& s, const ForwardBatch& b,
            int64_t nh, int64_t vw, float scale, float* out, Score score, Value value) {
  const int64_t scratch = static_cast<int64_t>(s.scores.size()) / ctx.pool.size();
  const AxpyF32Fn axpy = ctx.kernels.axpy_f32();
  const SoftmaxFn softmax_fn = ctx.kernels.softmax();
  const int64_t n = b.n;
  int64_t work_size = 0;
  for (int64_t t = 0; t < n; ++t) work_size += nh * (b.pos[t] + 1) * vw;
  auto work = [&](int thread, int n_threads) {
    float* sc = s.scores.data() + thread * scratch;
    int64_t i0, i1;
    split_range(n * nh, thread, n_threads, 1, &i0, &i1);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = i / nh, h = i % nh, pos = b.pos[t];
      const int32_t seq = b.seq[t];
      for (int64_t p = 0; p <= pos;) {
        const int64_t end = std::min(pos + 1, kv.block_end(p));
        const float* kr = kv.k(layer, seq, p);
        const float* vr = kv.v(layer, seq, p);
        for (int64_t j = 0; j < end - p; ++j) sc[p + j] = score(t, h, kr + j * kv.k_dim, vr + j * kv.v_dim) * scale;
        p = end;
      }
      softmax_fn(sc, pos + 1);
      float* o = out + i * vw;
      std::memset(o, 0, vw * sizeof(float));
      for (int64_t p = 0; p <= pos;) {
        const int64_t end = std::min(pos + 1, kv.block_end(p));
        const float* kr = kv.k(layer, seq, p);
        const float* vr = kv.v(layer, seq, p);
        for (int64_t j = 0; j < end - p; ++j) axpy(sc[p + j], value(kr + j * kv.k_dim, vr + j * kv.v_dim, h), o, vw);
        p = end;
      }
    }
  };
  if (work_size < 65536) work(0, 1);
  else ctx.pool.run(work);
}

void mla_naive(const ForwardContext& ctx, const ModelConfig& c, const MlaWeights& w, int64_t layer, const KvView& kv,
               RunState& s, const ForwardBatch& b, const Dims& d) {
  const int64_t n = b.n;
  // Expand this batch: kv_b = wkv_b · latent -> per head [k_nope | v]; keys [k_nope | k_rope].
  const int64_t kvb = d.nh * (d.nope + d.vh), kva = d.lora + d.rope;
  if (w.wkv_b.valid()) {
    matmul1(ctx, s, w.wkv_b, s.latent.data(), n, s.kv_b.data());
  } else {  // split layout: k_nope = (W_ukᵀ)ᵀ · c, v = W_uv · c per head
    for (int64_t h = 0; h < d.nh; ++h) {
      w.wk_b.rows_slice_to(h * d.lora, d.lora, &s.head_view);
      matmul_t(ctx.kernels, ctx.pool, s.head_view, s.latent.data(), n,
               s.kv_b.data() + h * (d.nope + d.vh), kvb);
      w.wv_b.rows_slice_to(h * d.vh, d.vh, &s.head_view);
      matmul1(ctx, s, s.head_view, s.latent.data(), n,
             s.kv_b.data() + h * (d.nope + d.vh) + d.nope, kvb);
    }
  }
  // Each row's expanded keys [k_nope | k_rope] and values go straight into the store.
  for (int64_t t = 0; t < n; ++t) {
    float* kr = kv.k(layer, b.seq[t], b.pos[t]);
    float* vr = kv.v(layer, b.seq[t], b.pos[t]);
    for (int64_t h = 0; h < d.nh; ++h) {
      const float* src = s.kv_b.data() + t * kvb + h * (d.nope + d.vh);
      std::memcpy(kr + h * d.qk, src, d.nope * sizeof(float));
      std::memcpy(kr + h * d.qk + d.nope, s.kv_a.data() + t * kva + d.lora, d.rope * sizeof(float));
      std::memcpy(vr + h * d.vh, src + d.nope, d.vh * sizeof(float));
    }
  }
  attend(ctx, kv, layer, s, b, d.nh, d.vh, static_cast<float>(c.attn.softmax_scale), s.att.data(),
         [&, dot = ctx.kernels.dot_f32()](int64_t t, int64_t h, const float* kr, const float*) {
           return dot(s.q.data() + (t * d.nh + h) * d.qk, kr + h * d.qk, d.qk);
         },
         [&](const float*, const float* vr, int64_t h) { return vr + h * d.vh; });
}

void mla_absorbed(const ForwardContext& ctx, const ModelConfig& c, const MlaWeights& w, int64_t layer,
                  const KvView& kv, RunState& s, const ForwardBatch& b, const Dims& d) {
  const int64_t n = b.n;
  const int64_t kva = d.lora + d.rope, stride = d.nope + d.vh;
  float* gather = s.k.data();  // scratch [n][max(nope, lora)] (s.k is unused by this form)
  // q_abs[t][h] = W_uk[h]ᵀ · q_nope[t][h], W_uk[h] = rows [h·stride, h·stride + nope) of wkv_b.
  for (int64_t h = 0; h < d.nh; ++h) {
    for (int64_t t = 0; t < n; ++t)
      std::memcpy(gather + t * d.nope, s.q.data() + (t * d.nh + h) * d.qk, d.nope * sizeof(float));
    if (w.wkv_b.valid()) {
      w.wkv_b.rows_slice_to(h * stride, d.nope, &s.head_view);
      matmul_t(ctx.kernels, ctx.pool, s.head_view, gather, n, s.q_abs.data() + h * d.lora, d.nh * d.lora);
    } else {  // wk_b stores W_ukᵀ per head: a plain matmul
      w.wk_b.rows_slice_to(h * d.lora, d.lora, &s.head_view);
      matmul1(ctx, s, s.head_view, gather, n, s.q_abs.data() + h * d.lora, d.nh * d.lora);
    }
  }
  // Each row's latent (K) and rotated k_rope (V) go into the store first.
  for (int64_t t = 0; t < n; ++t) {
    std::memcpy(kv.k(layer, b.seq[t], b.pos[t]), s.latent.data() + t * d.lora, d.lora * sizeof(float));
    std::memcpy(kv.v(layer, b.seq[t], b.pos[t]), s.kv_a.data() + t * kva + d.lora, d.rope * sizeof(float));
  }
  attend(ctx, kv, layer, s, b, d.nh, d.lora, static_cast<float>(c.attn.softmax_scale), s.att_lat.data(),
         [&, dot = ctx.kernels.dot_f32()](int64_t t, int64_t h, const float* lat, const float* kpe) {
           return dot(s.q_abs.data() + (t * d.nh + h) * d.lora, lat, d.lora) +
                  dot(s.q.data() + (t * d.nh + h) * d.qk + d.nope, kpe, d.rope);
         },
         [&](const float* lat, const float*, int64_t) { return lat; });
  // att[t][h] = W_uv[h] · att_lat[t][h], W_uv[h] = rows [h·stride + nope, (h+1)·stride).
  for (int64_t h = 0; h < d.nh; ++h) {
    for (int64_t t = 0; t < n; ++t)
      std::memcpy(gather + t * d.lora, s.att_lat.data() + (t * d.nh + h) * d.lora, d.lora * sizeof(float));
    if (w.wkv_b.valid()) w.wkv_b.rows_slice_to(h * stride + d.nope, d.vh, &s.head_view);
    else w.wv_b.rows_slice_to(h * d.vh, d.vh, &s.head_view);
    const TensorView& uv = s.head_view;
    matmul1(ctx, s, uv, gather, n, s.att.data() + h * d.vh, d.nh * d.vh);
  }
}

}  // namespace

void mla_block(const ForwardContext& ctx, const ModelConfig& c, const MlaWeights& w, int64_t layer, const KvView& kv,
               RunState& s, const ForwardBatch& b) {
  const int64_t n = b.n;
  ScopedOp prof(OpKind::kAttention);
  const MlaConfig& m = *c.mla;
  const Dims d{c.attn.n_heads, m.qk_nope_dim, m.qk_rope_dim, m.qk_nope_dim + m.qk_rope_dim, m.v_head_dim,
               m.kv_lora_rank};
  project_inputs(ctx, c, w, s, n, d);
  if (ctx.mla_absorbed) mla_absorbed(ctx, c, w, layer, kv, s, b, d);
  else mla_naive(ctx, c, w, layer, kv, s, b, d);
  matmul1(ctx, s, w.wo, s.att.data(), n, s.out.data());
}

}  // namespace moeinfer
