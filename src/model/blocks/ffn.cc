#include "model/blocks/ffn.h"

#include "base/profiler.h"
#include "kernels/ops.h"

namespace moeinfer {

void swiglu_rows(const ForwardContext& ctx, float* h1, const float* h3, int64_t total) {
  const SwigluFn swiglu = ctx.kernels.swiglu();
  ScopedOp prof(OpKind::kActivation);
  if (ctx.pool.size() > 1 && total >= 65536) {  // a prefill batch: split the elements
    ctx.pool.run([&](int t, int nt) {
      int64_t a, b;
      split_range(total, t, nt, 1024, &a, &b);
      if (b > a) swiglu(h1 + a, h3 + a, b - a);
    });
  } else {
    swiglu(h1, h3, total);
  }
}

void swiglu_ffn(const ForwardContext& ctx, RunState& s, const TensorView& w1, const TensorView& w2,
                const TensorView& w3, const float* x, int64_t n, float* h1, float* h3, float* out) {
  const MatmulJob gate_up[2] = {{&w1, x, n, h1}, {&w3, x, n, h3}};
  matmul_jobs(ctx, s, gate_up, 2);
  swiglu_rows(ctx, h1, h3, n * w1.rows());
  matmul1(ctx, s, w2, h1, n, out);
}

void ffn_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, RunState& s, int64_t n) {
  (void)c;
  swiglu_ffn(ctx, s, lw.w1, lw.w2, lw.w3, s.xb.data(), n, s.h1.data(), s.h3.data(), s.out.data());
}

}  // namespace moeinfer
