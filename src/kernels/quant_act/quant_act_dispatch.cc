#include "kernels/quant_act/quant_act.h"

namespace moeinfer {

QuantActFn select_quant_act(DType t, Isa isa) {
  const bool avx512 = (isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512);
  const bool avx2 = isa != Isa::kScalar && isa_supported(Isa::kAvx2);
  switch (t) {
    case DType::kQ8_0: return avx512 ? quant_act_q8_0_avx512 : avx2 ? quant_act_q8_0_avx2 : quant_act_q8_0_ref;
    case DType::kQ8_K: return avx512 ? quant_act_q8_k_avx512 : avx2 ? quant_act_q8_k_avx2 : quant_act_q8_k_ref;
    default: return nullptr;
  }
}

}  // namespace moeinfer
