#include "kernels/act/act.h"

namespace moeinfer {

namespace {
bool use_avx512(Isa isa) { return (isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512); }
bool use_avx2(Isa isa) { return isa != Isa::kScalar && isa_supported(Isa::kAvx2); }
}  // namespace

SoftmaxFn select_softmax(Isa isa) {
  if (use_avx512(isa)) return softmax_avx512;
  if (use_avx2(isa)) return softmax_avx2;
  return softmax_ref;
}

SwigluFn select_swiglu(Isa isa) {
  if (use_avx512(isa)) return swiglu_avx512;
  if (use_avx2(isa)) return swiglu_avx2;
  return swiglu_ref;
}

ExpFn select_exp(Isa isa) {
  if (use_avx512(isa)) return exp_avx512;
  if (use_avx2(isa)) return exp_avx2;
  return exp_ref;
}

}  // namespace moeinfer
