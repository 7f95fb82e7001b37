#include "kernels/matmul/matmul.h"

namespace moeinfer {

MatmulFn select_matmul(DType t, Isa isa, Isa* used) {
  // AMX has no float kernel by design (bf16 tiles would break the F32 tolerance): AVX-512 serves it.
  if (isa == Isa::kAmx) isa = Isa::kAvx512;
  if (isa == Isa::kAvx512 && isa_supported(Isa::kAvx512)) {
    if (MatmulFn f = matmul_avx512(t)) {
      if (used) *used = Isa::kAvx512;
      return f;
    }
    isa = Isa::kAvx2;
  }
  if (isa == Isa::kAvx2 && isa_supported(Isa::kAvx2)) {
    if (MatmulFn f = matmul_avx2(t)) {
      if (used) *used = Isa::kAvx2;
      return f;
    }
  }
  if (used) *used = Isa::kScalar;
  return matmul_ref(t);
}

}  // namespace moeinfer
