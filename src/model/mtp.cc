#include "model/mtp.h"

#include "kernels/ops.h"

namespace moeinfer {

void mtp_forward(const ForwardContext& ctx, const ModelConfig& c, const MtpWeights& w, const KvView& kv, RunState& s,
                 MtpState& ms, const float* hidden, const ForwardBatch& b, float* logits) {
  const int64_t dim = c.dim, n = b.n;
  const int32_t* next_tokens = b.tokens;
  prepare_batch(c, b, s);
  for (int64_t t = 0; t < n; ++t) {
    float* cat = ms.cat.data() + t * 2 * dim;
    embedding_row(s.xb.data(), w.embed, next_tokens[t]);
    rmsnorm(cat, s.xb.data(), w.enorm, dim, c.norm_eps);
    rmsnorm(cat + dim, hidden + t * dim, w.hnorm, dim, c.norm_eps);
  }
  matmul1(ctx, s, w.eh_proj, ms.cat.data(), n, s.x.data());
  layer_forward(ctx, c, w.block, c.n_layers, c.layer_is_moe(c.n_layers), /*kv_layer=*/0, kv, s, b);
  for (int64_t t = 0; t < n; ++t) rmsnorm(s.xb.data() + t * dim, s.x.data() + t * dim, w.head_norm, dim, c.norm_eps);
  matmul1(ctx, s, w.head, s.xb.data(), n, logits);
}

}  // namespace moeinfer
