#include "model/blocks/ffn.h"

#include "base/profiler.h"
#include "kernels/ops.h"

namespace moeinfer {

void swiglu_ffn(const ForwardContext& ctx, const TensorView& w1, const TensorView& w2, const TensorView& w3,
                const float* x, int64_t n, float* h1, float* h3, float* out) {
  matmul_shared_input(ctx.kernels, ctx.pool, {{&w1, h1}, {&w3, h3}}, x, n);
  const int64_t total = n * w1.rows();
  const SwigluFn swiglu = ctx.kernels.swiglu();
  {
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
  matmul(ctx.kernels, ctx.pool, w2, h1, n, out);
}

void ffn_block(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, RunState& s, int64_t n) {
  (void)c;
  swiglu_ffn(ctx, lw.w1, lw.w2, lw.w3, s.xb.data(), n, s.h1.data(), s.h3.data(), s.out.data());
}

}  // namespace moeinfer
