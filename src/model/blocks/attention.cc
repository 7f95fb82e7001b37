#include "model/blocks/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/profiler.h"
#include "kernels/ops.h"

namespace moeinfer {

namespace {

struct Shape {
  int64_t hd, nh, nkv, q_dim, kv_dim, group, window;
  float scale;
  int64_t lo_of(int64_t pos) const { return window > 0 && pos - window + 1 > 0 ? pos - window + 1 : int64_t{0}; }
};

// Causal attention for one segment of n ≥ 4 rows of a sequence (positions pos0 .. pos0+n-1), in
// tiles: the keys it sees (the window of earlier positions and its own) are transposed once to
// [kv head][dim][key] and the values gathered into one contiguous run, then each task takes a
// block of rows for one kv head, so its tile rows are (row, query head of the group) pairs sharing
// every key and value load:
//   S = Q·Kᵀ·scale (rows × keys), softmax per row over its own [lo, pos], O = P·V.
// The sums run in the same order as the one-query path (over the head dim, then over keys).
void prefill_segment(const ForwardContext& ctx, const Shape& sh, const KvView& kv, int64_t layer, RunState& s,
                     const BatchSegment& seg) {
  const int64_t hd = sh.hd, nkv = sh.nkv, group = sh.group, q_dim = sh.q_dim, kv_dim = sh.kv_dim;
  const int64_t n = seg.n, pos0 = seg.pos0, row0 = seg.row0;
  const int64_t p_first = sh.lo_of(pos0), n_keys = pos0 + n - p_first;
  const int64_t tq = std::max<int64_t>(1, 16 / group);  // tokens per block: about 16 rows
  const int64_t max_rows = tq * group, n_blocks = (n + tq - 1) / tq;
  const int64_t per_thread = max_rows * n_keys + 2 * max_rows * hd;
  float* kt = s.att_kt.data();
  float* vals = s.att_vals.data();
  // Keys transposed and values gathered, one store block (contiguous rows) at a time.
  for (int64_t p = p_first; p < pos0 + n;) {
    const int64_t end = std::min(pos0 + n, kv.block_end(p));
    const float* kb = kv.k(layer, seg.seq, p);
    for (int64_t i = 0; i < end - p; ++i)
      for (int64_t j = 0; j < kv_dim; ++j) kt[j * n_keys + (p - p_first) + i] = kb[i * kv_dim + j];
    std::memcpy(vals + (p - p_first) * kv_dim, kv.v(layer, seg.seq, p), (end - p) * kv_dim * sizeof(float));
    p = end;
  }
  float* scratch_data = s.att_tiles.data();
  const ScoresKtFn scores = ctx.kernels.scores_kt();
  const WsumRowsFn wsum = ctx.kernels.wsum_rows();
  const SoftmaxFn softmax_fn = ctx.kernels.softmax();

  auto work = [&](int thread, int nt) {
    float* sc = scratch_data + thread * per_thread;
    float* qb = sc + max_rows * n_keys;
    float* ob = qb + max_rows * hd;
    // tasks (block, kv head) dealt round-robin: later blocks see more keys, so this evens the load
    for (int64_t task = thread; task < n_blocks * nkv; task += nt) {
      const int64_t blk = task / nkv, kvh = task % nkv;
      const int64_t t0 = blk * tq, t1 = std::min(n, t0 + tq), rows = (t1 - t0) * group;
      const int64_t k_lo = sh.lo_of(pos0 + t0), k_hi = pos0 + t1 - 1, nk = k_hi - k_lo + 1;
      for (int64_t t = t0; t < t1; ++t)
        std::memcpy(qb + (t - t0) * group * hd, s.q.data() + (row0 + t) * q_dim + kvh * group * hd,
                    group * hd * sizeof(float));
      scores(qb, hd, rows, kt + kvh * hd * n_keys + (k_lo - p_first), n_keys, nk, hd, sh.scale, sc, nk);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t pos = pos0 + t0 + r / group, a = sh.lo_of(pos) - k_lo, e = pos - k_lo + 1;
        float* row = sc + r * nk;
        softmax_fn(row + a, e - a);
        std::fill(row, row + a, 0.0f);
        std::fill(row + e, row + nk, 0.0f);
      }
      std::memset(ob, 0, rows * hd * sizeof(float));
      wsum(sc, nk, rows, vals + (k_lo - p_first) * kv_dim + kvh * hd, kv_dim, nk, hd, ob, hd);
      for (int64_t t = t0; t < t1; ++t)
        std::memcpy(s.att.data() + (row0 + t) * q_dim + kvh * group * hd, ob + (t - t0) * group * hd,
                    group * hd * sizeof(float));
    }
  };
  if (n * sh.nh * (pos0 + n) * hd < 65536) work(0, 1);
  else ctx.pool.run(work);
}

// One query at a time for the rows of short segments (decode): each (row, head) reads its
// sequence's keys in place, block by block, and sums value rows in contiguous runs.
void short_rows_attention(const ForwardContext& ctx, const Shape& sh, const KvView& kv, int64_t layer, RunState& s,
                          const ForwardBatch& b) {
  const int64_t scratch = static_cast<int64_t>(s.scores.size()) / ctx.pool.size();
  const int64_t hd = sh.hd, nh = sh.nh, kv_dim = sh.kv_dim, n_short = s.n_short;
  const DotF32Fn dot = ctx.kernels.dot_f32();
  const WsumRowsFn wsum = ctx.kernels.wsum_rows();
  const SoftmaxFn softmax_fn = ctx.kernels.softmax();
  int64_t work_size = 0;
  for (int64_t i = 0; i < n_short; ++i) work_size += nh * (b.pos[s.short_rows[i]] + 1) * hd;
  auto work = [&](int thread, int n_threads) {
    float* sc = s.scores.data() + thread * scratch;
    int64_t i0, i1;
    split_range(n_short * nh, thread, n_threads, 1, &i0, &i1);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = s.short_rows[i / nh], h = i % nh, kvh = h / sh.group, pos = b.pos[t];
      const int32_t seq = b.seq[t];
      const int64_t lo = sh.lo_of(pos);
      const float* qh = s.q.data() + t * sh.q_dim + h * hd;
      for (int64_t p = lo; p <= pos;) {
        const int64_t end = std::min(pos + 1, kv.block_end(p));
        const float* kr = kv.k(layer, seq, p) + kvh * hd;
        for (int64_t j = 0; j < end - p; ++j) sc[p - lo + j] = dot(qh, kr + j * kv_dim, hd) * sh.scale;
        p = end;
      }
      softmax_fn(sc, pos - lo + 1);
      float* o = s.att.data() + t * sh.q_dim + h * hd;
      std::memset(o, 0, hd * sizeof(float));
      for (int64_t p = lo; p <= pos;) {  // value rows are contiguous up to each block's end
        const int64_t end = std::min(pos + 1, kv.block_end(p));
        wsum(sc + (p - lo), 0, 1, kv.v(layer, seq, p) + kvh * hd, kv_dim, end - p, hd, o, hd);
        p = end;
      }
    }
  };
  if (work_size < 65536) work(0, 1);
  else ctx.pool.run(work);
}

}  // namespace

void attention_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                     const KvView& kv, RunState& s, const ForwardBatch& b) {
  ScopedOp prof(OpKind::kAttention);
  const int64_t n = b.n;
  Shape sh{};
  sh.hd = c.attn.head_dim;
  sh.nh = c.attn.n_heads;
  sh.nkv = c.attn.n_kv_heads;
  sh.q_dim = sh.nh * sh.hd;
  sh.kv_dim = sh.nkv * sh.hd;
  sh.group = sh.nh / sh.nkv;
  sh.window = c.attn.sliding_window;
  sh.scale = c.attn.softmax_scale > 0.0 ? static_cast<float>(c.attn.softmax_scale)
                                        : 1.0f / std::sqrt(static_cast<float>(sh.hd));
  const MatmulJob qkv[3] = {{&lw.wq, s.xb.data(), n, s.q.data()},
                            {&lw.wk, s.xb.data(), n, s.k.data()},
                            {&lw.wv, s.xb.data(), n, s.v.data()}};
  matmul_jobs(ctx, s, qkv, 3);

  // RoPE on every q and k head of the batch (cosines and sines of each row's position, from
  // prepare_batch), then each row's K/V into the store at its (sequence, position).
  {
    ScopedOp rope_prof(OpKind::kRope);
    auto rope = c.rope.pairing == RopePairing::kInterleaved ? rope_interleaved : rope_neox;
    const int64_t n_rot = c.rope.n_rot;
    for (int64_t t = 0; t < n; ++t) {
      const float* cs = s.rope_cs.data() + t * n_rot;
      for (int64_t h = 0; h < sh.nh; ++h) rope(s.q.data() + t * sh.q_dim + h * sh.hd, n_rot, cs);
      for (int64_t h = 0; h < sh.nkv; ++h) rope(s.k.data() + t * sh.kv_dim + h * sh.hd, n_rot, cs);
      std::memcpy(kv.k(layer, b.seq[t], b.pos[t]), s.k.data() + t * sh.kv_dim, sh.kv_dim * sizeof(float));
      std::memcpy(kv.v(layer, b.seq[t], b.pos[t]), s.v.data() + t * sh.kv_dim, sh.kv_dim * sizeof(float));
    }
  }

  // softmax(q·kᵀ / sqrt(hd)) · v for every (row, head); a row at position pos sees its
  // sequence's keys [lo, pos] (lo = pos - W + 1 with a sliding window W).
  if (s.n_short > 0) short_rows_attention(ctx, sh, kv, layer, s, b);
  for (int64_t g = 0; g < s.n_segs; ++g)
    if (s.segs[g].n >= 4) prefill_segment(ctx, sh, kv, layer, s, s.segs[g]);
  matmul1(ctx, s, lw.wo, s.att.data(), n, s.out.data());
}

}  // namespace moeinfer
