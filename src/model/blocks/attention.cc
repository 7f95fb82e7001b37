#include "model/blocks/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/profiler.h"
#include "kernels/ops.h"

namespace moeinfer {

namespace {

// Causal attention for a batch of n ≥ 4 queries, in tiles: the keys (this batch's and the cached
// ones still in the window) are transposed once per call to [kv head][dim][key] and the values
// gathered into one contiguous run, then each task takes a block of tokens for one kv head, so its
// rows are (token, query head of the group) pairs sharing every key and value load:
//   S = Q·Kᵀ·scale (rows × keys), softmax per row over its own [lo, pos], O = P·V.
// The sums run in the same order as the one-query path (over the head dim, then over keys).
template <typename Key, typename Value>
void prefill_attention(const ForwardContext& ctx, const ModelConfig& c, RunState& s, int64_t n, int64_t pos0,
                       float scale, const Key& key, const Value& value) {
  const int64_t hd = c.attn.head_dim, nh = c.attn.n_heads, nkv = c.attn.n_kv_heads;
  const int64_t q_dim = nh * hd, kv_dim = nkv * hd, group = nh / nkv;
  const int64_t window = c.attn.sliding_window;
  auto lo_of = [&](int64_t pos) { return window > 0 && pos - window + 1 > 0 ? pos - window + 1 : int64_t{0}; };
  const int64_t p_first = lo_of(pos0), n_keys = pos0 + n - p_first;
  const int64_t tq = std::max<int64_t>(1, 16 / group);  // tokens per block: about 16 rows
  const int64_t max_rows = tq * group, n_blocks = (n + tq - 1) / tq;
  const int n_threads = ctx.pool.size();
  const int64_t per_thread = max_rows * n_keys + 2 * max_rows * hd;

  static thread_local std::vector<float> kt, vals, scratch;
  kt.resize(static_cast<size_t>(kv_dim * n_keys));
  for (int64_t p = p_first; p < pos0 + n; ++p) {
    const float* kp = key(p);
    for (int64_t j = 0; j < kv_dim; ++j) kt[static_cast<size_t>(j * n_keys + (p - p_first))] = kp[j];
  }
  const float* v_data = value(p_first);
  if (p_first < pos0) {  // cached values first: copy the window's rows into one run
    vals.resize(static_cast<size_t>(kv_dim * n_keys));
    for (int64_t p = p_first; p < pos0 + n; ++p)
      std::memcpy(vals.data() + (p - p_first) * kv_dim, value(p), kv_dim * sizeof(float));
    v_data = vals.data();
  }
  scratch.resize(static_cast<size_t>(per_thread * n_threads));
  // the workers must not name the thread_local buffers: they are the calling thread's
  const float* kt_data = kt.data();
  float* scratch_data = scratch.data();
  const ScoresKtFn scores = ctx.kernels.scores_kt();
  const WsumRowsFn wsum = ctx.kernels.wsum_rows();
  const SoftmaxFn softmax_fn = ctx.kernels.softmax();

  auto work = [&](int thread, int nt) {
    float* sc = scratch_data + thread * per_thread;
    float* qb = sc + max_rows * n_keys;
    float* ob = qb + max_rows * hd;
    // tasks (block, kv head) dealt round-robin: later blocks see more keys, so this evens the load
    for (int64_t task = thread; task < n_blocks * nkv; task += nt) {
      const int64_t b = task / nkv, kvh = task % nkv;
      const int64_t t0 = b * tq, t1 = std::min(n, t0 + tq), rows = (t1 - t0) * group;
      const int64_t k_lo = lo_of(pos0 + t0), k_hi = pos0 + t1 - 1, nk = k_hi - k_lo + 1;
      for (int64_t t = t0; t < t1; ++t)
        std::memcpy(qb + (t - t0) * group * hd, s.q.data() + t * q_dim + kvh * group * hd, group * hd * sizeof(float));
      scores(qb, hd, rows, kt_data + kvh * hd * n_keys + (k_lo - p_first), n_keys, nk, hd, scale, sc, nk);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t pos = pos0 + t0 + r / group, a = lo_of(pos) - k_lo, e = pos - k_lo + 1;
        float* row = sc + r * nk;
        softmax_fn(row + a, e - a);
        std::fill(row, row + a, 0.0f);
        std::fill(row + e, row + nk, 0.0f);
      }
      std::memset(ob, 0, rows * hd * sizeof(float));
      wsum(sc, nk, rows, v_data + (k_lo - p_first) * kv_dim + kvh * hd, kv_dim, nk, hd, ob, hd);
      for (int64_t t = t0; t < t1; ++t)
        std::memcpy(s.att.data() + t * q_dim + kvh * group * hd, ob + (t - t0) * group * hd, group * hd * sizeof(float));
    }
  };
  if (n * nh * (pos0 + n) * hd < 65536) work(0, 1);
  else ctx.pool.run(work);
}

}  // namespace

void attention_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                     KvCache& cache, RunState& s, int64_t n, int64_t pos0) {
  ScopedOp prof(OpKind::kAttention);
  const int64_t hd = c.attn.head_dim, nh = c.attn.n_heads, nkv = c.attn.n_kv_heads;
  const int64_t q_dim = nh * hd, kv_dim = nkv * hd, group = nh / nkv;
  matmul_shared_input(ctx.kernels, ctx.pool, {{&lw.wq, s.q.data()}, {&lw.wk, s.k.data()}, {&lw.wv, s.v.data()}},
                      s.xb.data(), n);

  // RoPE on every q and k head of the batch (cosines and sines once per position).
  {
    ScopedOp rope_prof(OpKind::kRope);
    auto rope = c.rope.pairing == RopePairing::kInterleaved ? rope_interleaved : rope_neox;
    std::vector<float> cs(static_cast<size_t>(c.rope.n_rot));
    for (int64_t t = 0; t < n; ++t) {
      rope_cos_sin(s.inv_freq.data(), c.rope.n_rot, pos0 + t, cs.data());
      for (int64_t h = 0; h < nh; ++h) rope(s.q.data() + t * q_dim + h * hd, c.rope.n_rot, cs.data());
      for (int64_t h = 0; h < nkv; ++h) rope(s.k.data() + t * kv_dim + h * hd, c.rope.n_rot, cs.data());
    }
  }

  // softmax(q·kᵀ / sqrt(hd)) · v for every (token, head). Query at position pos sees keys at
  // [lo, pos] (lo = pos - W + 1 with a sliding window W). Keys of this batch are read from s.k/s.v,
  // older ones from the cache, so a rolling cache of W slots serves batches of any length.
  const float scale = c.attn.softmax_scale > 0.0 ? static_cast<float>(c.attn.softmax_scale)
                                                 : 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t scratch = static_cast<int64_t>(s.scores.size()) / ctx.pool.size();
  const int64_t window = c.attn.sliding_window;
  auto key = [&](int64_t p) -> const float* {
    return p >= pos0 ? s.k.data() + (p - pos0) * kv_dim : cache.k(layer, p);
  };
  auto value = [&](int64_t p) -> const float* {
    return p >= pos0 ? s.v.data() + (p - pos0) * kv_dim : cache.v(layer, p);
  };
  const DotF32Fn dot = ctx.kernels.dot_f32();
  const WsumRowsFn wsum = ctx.kernels.wsum_rows();
  const SoftmaxFn softmax_fn = ctx.kernels.softmax();
  if (n < 4) {  // decode: each (token, head) reads the keys in place
    auto work = [&](int thread, int n_threads) {
      float* sc = s.scores.data() + thread * scratch;
      int64_t i0, i1;
      split_range(n * nh, thread, n_threads, 1, &i0, &i1);
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t t = i / nh, h = i % nh, kvh = h / group, pos = pos0 + t;
        const int64_t lo = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
        const float* qh = s.q.data() + t * q_dim + h * hd;
        for (int64_t p = lo; p <= pos; ++p) sc[p - lo] = dot(qh, key(p) + kvh * hd, hd) * scale;
        softmax_fn(sc, pos - lo + 1);
        float* o = s.att.data() + t * q_dim + h * hd;
        std::memset(o, 0, hd * sizeof(float));
        // value rows in runs that are contiguous in memory (this batch; the cache between wraps)
        for (int64_t p = lo; p <= pos;) {
          int64_t end = p + 1;
          while (end <= pos && value(end) == value(end - 1) + kv_dim) ++end;
          wsum(sc + (p - lo), 0, 1, value(p) + kvh * hd, kv_dim, end - p, hd, o, hd);
          p = end;
        }
      }
    };
    if (n * nh * (pos0 + n) * hd < 65536) work(0, 1);
    else ctx.pool.run(work);
  } else {
    prefill_attention(ctx, c, s, n, pos0, scale, key, value);
  }

  // Append this batch's keys and values; with a rolling cache only the last `slots` survive.
  const int64_t first_kept = std::max<int64_t>(0, n - cache.slots());
  for (int64_t t = first_kept; t < n; ++t) {
    std::memcpy(cache.k(layer, pos0 + t), s.k.data() + t * kv_dim, kv_dim * sizeof(float));
    std::memcpy(cache.v(layer, pos0 + t), s.v.data() + t * kv_dim, kv_dim * sizeof(float));
  }
  matmul(ctx.kernels, ctx.pool, lw.wo, s.att.data(), n, s.out.data());
}

}  // namespace moeinfer
