#include "model/blocks/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/profiler.h"
#include "kernels/ops.h"

namespace moeinfer {

void attention_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                     KvCache& cache, RunState& s, int64_t n, int64_t pos0) {
  ScopedOp prof(OpKind::kAttention);
  const int64_t hd = c.attn.head_dim, nh = c.attn.n_heads, nkv = c.attn.n_kv_heads;
  const int64_t q_dim = nh * hd, kv_dim = nkv * hd, group = nh / nkv;
  matmul_shared_input(ctx.kernels, ctx.pool, {{&lw.wq, s.q.data()}, {&lw.wk, s.k.data()}, {&lw.wv, s.v.data()}},
                      s.xb.data(), n);

  // RoPE on every q and k head of the batch.
  auto rope = c.rope.pairing == RopePairing::kInterleaved ? rope_interleaved : rope_neox;
  for (int64_t t = 0; t < n; ++t) {
    const int64_t pos = pos0 + t;
    for (int64_t h = 0; h < nh; ++h) rope(s.q.data() + t * q_dim + h * hd, c.rope.n_rot, s.inv_freq.data(), pos);
    for (int64_t h = 0; h < nkv; ++h) rope(s.k.data() + t * kv_dim + h * hd, c.rope.n_rot, s.inv_freq.data(), pos);
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
  // A batch (prefill) scores against the keys transposed once per call, [kv head][dim][key], so
  // that a query meets 16 keys per vector operation; a single token (decode) reads them in place.
  const ScoresKtFn scores_kt = ctx.kernels.scores_kt();
  const bool transposed = n >= 4;
  const int64_t p_first = window > 0 && pos0 - window + 1 > 0 ? pos0 - window + 1 : 0;
  const int64_t n_keys = pos0 + n - p_first;
  static thread_local std::vector<float> kt;
  if (transposed) {
    kt.resize(static_cast<size_t>(nkv * hd * n_keys));
    for (int64_t p = p_first; p < pos0 + n; ++p) {
      const float* kp = key(p);
      for (int64_t j = 0; j < kv_dim; ++j) kt[static_cast<size_t>(j * n_keys + (p - p_first))] = kp[j];
    }
  }
  const float* kt_data = kt.data();  // the workers must not name `kt`: it is thread_local
  auto work = [&](int thread, int n_threads) {
    float* sc = s.scores.data() + thread * scratch;
    int64_t i0, i1;
    split_range(n * nh, thread, n_threads, 1, &i0, &i1);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = i / nh, h = i % nh, kvh = h / group, pos = pos0 + t;
      const int64_t lo = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
      const float* qh = s.q.data() + t * q_dim + h * hd;
      if (transposed)
        scores_kt(qh, kt_data + kvh * hd * n_keys + (lo - p_first), n_keys, pos - lo + 1, hd, scale, sc);
      else
        for (int64_t p = lo; p <= pos; ++p) sc[p - lo] = dot(qh, key(p) + kvh * hd, hd) * scale;
      softmax(sc, pos - lo + 1);
      float* o = s.att.data() + t * q_dim + h * hd;
      std::memset(o, 0, hd * sizeof(float));
      // value rows in runs that are contiguous in memory (this batch; the cache between wraps)
      for (int64_t p = lo; p <= pos;) {
        int64_t end = p + 1;
        while (end <= pos && value(end) == value(end - 1) + kv_dim) ++end;
        wsum(sc + (p - lo), value(p) + kvh * hd, kv_dim, end - p, hd, o);
        p = end;
      }
    }
  };
  if (n * nh * (pos0 + n) * hd < 65536) work(0, 1);
  else ctx.pool.run(work);

  // Append this batch's keys and values; with a rolling cache only the last `slots` survive.
  const int64_t first_kept = std::max<int64_t>(0, n - cache.slots());
  for (int64_t t = first_kept; t < n; ++t) {
    std::memcpy(cache.k(layer, pos0 + t), s.k.data() + t * kv_dim, kv_dim * sizeof(float));
    std::memcpy(cache.v(layer, pos0 + t), s.v.data() + t * kv_dim, kv_dim * sizeof(float));
  }
  matmul(ctx.kernels, ctx.pool, lw.wo, s.att.data(), n, s.out.data());
}

}  // namespace moeinfer
