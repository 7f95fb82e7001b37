// Transposed matrix product kernel family: y = Wᵀ·x.
//
// Contract: for output columns c in [c0, c1) and tokens t in [0, n_tok)
//   y[t * ldy + c] = sum_{r < rows} x[t * rows + r] * W[r][c]
// W is row-major [rows][cols] of its type (F32, F16, BF16, F8_E4M3 with block scales as in
// matmul.h). Used where a weight is stored [out, in] but applied as [in, out] without a transposed
// copy: MLA's absorbed query (q_nope · W_uk). Sums accumulate in F32 in row order.
#pragma once
#include <cstdint>

#include "kernels/matmul/matmul.h"

namespace moeinfer {

struct MatmulTArgs {
  const uint8_t* w;
  uint64_t row_bytes;
  int64_t rows, cols;
  const float* x;  // [n_tok][rows]
  int64_t n_tok;
  float* y;        // [n_tok][ldy]
  int64_t ldy;
  const float* scale = nullptr;
  int64_t scale_cols = 0, block_rows = 0, block_cols = 0, scale_row0 = 0;
};

using MatmulTFn = void (*)(const MatmulTArgs& a, int64_t c0, int64_t c1);

MatmulTFn matmul_t_ref(DType t);  // scalar (the only level so far)

}  // namespace moeinfer
