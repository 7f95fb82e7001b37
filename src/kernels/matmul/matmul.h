// Matrix multiplication kernel family for float weights (F32, F16, BF16).
//
// Contract (all ISAs): for rows r in [r0, r1) and tokens t in [0, n_tok)
//   y[t * ldy + r] = sum_{i < cols} W[r][i] * x[t * cols + i]
// W is row-major [rows][cols] of `type`, starting at `w` with `row_bytes` bytes per row (the GGUF
// layout, ggml ne = {cols, rows}); x is F32 [n_tok][cols]; y is F32 [n_tok][ldy]. Sums accumulate
// in F32; different ISAs add in different orders, so results agree to float rounding
// (|Δ| ≲ cols · 2^-24 · Σ|W·x|), not bit for bit.
//
// Files: matmul_ref.cc (scalar, the truth), matmul_avx2.cc, matmul_avx512.cc (each compiled with
// its own -m flags), matmul_dispatch.cc (picks one per dtype for an Isa, once).
#pragma once
#include <cstdint>

#include "base/cpu_features.h"
#include "tensor/dtype.h"

namespace moeinfer {

struct MatmulArgs {
  const uint8_t* w;    // row 0 of W
  uint64_t row_bytes;  // bytes per row of W
  int64_t cols;        // elements per row of W = length of each x row
  const float* x;      // [n_tok][cols]
  int64_t n_tok;
  float* y;            // [n_tok][ldy]
  int64_t ldy;
  // Block-scaled types only (F8_E4M3): see TensorView::block_scale.
  const float* scale = nullptr;
  int64_t scale_cols = 0, block_rows = 0, block_cols = 0, scale_row0 = 0;
};

using MatmulFn = void (*)(const MatmulArgs& a, int64_t r0, int64_t r1);

// F8_E4M3 (block-scaled): each product is fp8(W[r][i]) · scale(r, i) · x[i], i.e. the weight is
// dequantized exactly as the reference does (F32 value × F32 block scale) and summed in F32.

// Per-ISA entry points; nullptr where an ISA has no kernel for a type.
MatmulFn matmul_ref(DType t);
MatmulFn matmul_avx2(DType t);
MatmulFn matmul_avx512(DType t);

// The kernel for `t` at level `isa`, falling back to lower levels; nullptr when the type has no
// kernel at all. *used (optional) receives the level actually chosen.
MatmulFn select_matmul(DType t, Isa isa, Isa* used = nullptr);

}  // namespace moeinfer
