#include "model/blocks/ffn.h"

#include "kernels/ops.h"

namespace moeinfer {

void swiglu_ffn(const ForwardContext& ctx, const TensorView& w1, const TensorView& w2, const TensorView& w3,
                const float* x, int64_t n, float* h1, float* h3, float* out) {
  matmul(ctx.kernels, ctx.pool, w1, x, n, h1);
  matmul(ctx.kernels, ctx.pool, w3, x, n, h3);
  swiglu(h1, h3, n * w1.rows());
  matmul(ctx.kernels, ctx.pool, w2, h1, n, out);
}

void ffn_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, RunState& s, int64_t n) {
  (void)c;
  swiglu_ffn(ctx, lw.w1, lw.w2, lw.w3, s.xb.data(), n, s.h1.data(), s.h3.data(), s.out.data());
}

}  // namespace moeinfer
