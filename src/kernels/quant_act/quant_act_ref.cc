#include "kernels/quant_act/quant_act.h"
#include "tensor/quantize.h"

namespace moeinfer {

void quant_act_q8_0_ref(const float* x, int64_t n, void* blocks) { quantize_row(DType::kQ8_0, x, n, blocks); }
void quant_act_q8_k_ref(const float* x, int64_t n, void* blocks) { quantize_row(DType::kQ8_K, x, n, blocks); }

}  // namespace moeinfer
