#include "kernels/qmatmul/qmatmul.h"

namespace moeinfer {

QMatmulFn select_qmatmul(DType t, Isa isa, Isa* used) {
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512) && cpu_features().avx512vnni) {
    if (QMatmulFn f = qmatmul_avx512(t)) {
      if (used) *used = Isa::kAvx512;
      return f;
    }
  }
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) {
    if (QMatmulFn f = qmatmul_avx2(t)) {
      if (used) *used = Isa::kAvx2;
      return f;
    }
  }
  if (used) *used = Isa::kScalar;
  return qmatmul_ref(t);
}

QMatmulFn select_qmatmul_r8(DType t, Isa isa) {
  if (isa == Isa::kAmx)
    if (QMatmulFn f = qmatmul_r8_amx(t)) return f;
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512) && cpu_features().avx512vnni)
    return qmatmul_r8_avx512(t);
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return qmatmul_r8_avx2(t);
  return nullptr;
}

}  // namespace moeinfer
