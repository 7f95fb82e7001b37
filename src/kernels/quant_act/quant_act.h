// Activation quantizers for the integer matmuls: one row of F32 activations into Q8_0 blocks (paired
// with Q8_0/Q4_0/Q5_0 weights) or Q8_K blocks (paired with the k-quants). Every level produces the
// same bytes as the scalar reference (tensor/quantize.cc, ggml's reference rounding): the block
// maxima are exact in any order, the scale is computed by the same scalar float operations, and
// the rounding of x·id is done exactly (truncate, then compare the exact remainder with ±0.5 for
// Q8_0's round-half-away; the FPU's round-half-even for Q8_K). So the choice of ISA never changes a
// logit through the activations.
#pragma once
#include <cstdint>

#include "base/cpu_features.h"
#include "tensor/dtype.h"

namespace moeinfer {

// x[n] -> blocks (n a multiple of the block size: 32 for Q8_0, 256 for Q8_K).
using QuantActFn = void (*)(const float* x, int64_t n, void* blocks);

void quant_act_q8_0_ref(const float* x, int64_t n, void* blocks);
void quant_act_q8_k_ref(const float* x, int64_t n, void* blocks);
void quant_act_q8_0_avx2(const float* x, int64_t n, void* blocks);
void quant_act_q8_k_avx2(const float* x, int64_t n, void* blocks);
void quant_act_q8_0_avx512(const float* x, int64_t n, void* blocks);
void quant_act_q8_k_avx512(const float* x, int64_t n, void* blocks);

// The quantizer for activation type `t` (kQ8_0 or kQ8_K) at `isa`; nullptr for other types.
QuantActFn select_quant_act(DType t, Isa isa);

}  // namespace moeinfer
