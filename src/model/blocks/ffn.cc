#include "model/blocks/ffn.h"

#include "kernels/ops.h"

namespace moeinfer {

void ffn_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, RunState& s, int64_t n) {
  matmul(ctx.kernels, ctx.pool, lw.w1, s.xb.data(), n, s.h1.data());
  matmul(ctx.kernels, ctx.pool, lw.w3, s.xb.data(), n, s.h3.data());
  swiglu(s.h1.data(), s.h3.data(), n * c.ffn_dim);
  matmul(ctx.kernels, ctx.pool, lw.w2, s.h1.data(), n, s.out.data());
}

}  // namespace moeinfer
