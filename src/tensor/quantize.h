// Scalar reference quantize / dequantize for the block formats of quant_blocks.h. Row lengths must
// be multiples of the format's block size (the caller checks). Quantizers follow ggml's reference
// rounding for Q8_0, Q4_0, Q5_0 and Q8_K; the k-quant weight quantizers (Q4_K, Q5_K, Q6_K) choose
// scales by a simple min/max fit per sub-block refined by a few scale candidates (not ggml's
// exact search), producing valid, bit-compatible blocks.
#pragma once
#include <cstdint>

#include "tensor/dtype.h"

namespace moeinfer {

// x[n] -> blocks; returns false for types without a quantizer.
bool quantize_row(DType t, const float* x, int64_t n, void* blocks);
// blocks -> y[n]; returns false for types without a dequantizer. Handles F32/F16/BF16 too.
bool dequantize_row(DType t, const void* blocks, int64_t n, float* y);
bool has_quantizer(DType t);

}  // namespace moeinfer
