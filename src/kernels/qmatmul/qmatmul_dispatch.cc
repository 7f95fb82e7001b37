#include "kernels/qmatmul/qmatmul.h"

namespace moeinfer {

QMatmulFn select_qmatmul(DType t, Isa isa, Isa* used) {
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) {
    if (QMatmulFn f = qmatmul_avx2(t)) {
      if (used) *used = Isa::kAvx2;
      return f;
    }
  }
  if (used) *used = Isa::kScalar;
  return qmatmul_ref(t);
}

}  // namespace moeinfer
