// Interleaved row layouts for the AVX-512 VNNI kernels (Layout::kRows8), decided at load time and
// never written to a file.
//
// Rows are taken in groups of 8. For block b (32 elements) of a group, the 8 rows' blocks are
// stored together as one "group block" of the same total size as 8 plain blocks:
//   bytes 0-15: the 8 rows' F16 scales d_0 … d_7;
//   Q8_0 (272 bytes): then 4 chunks of 64 bytes; chunk k holds, for row j = 0…7 at offset 8j,
//     the row's quants 8k … 8k+7 each XOR 0x80 (w + 128: unsigned for vpdpbusd);
//   Q4_0 (144 bytes): then 2 chunks of 64 bytes; chunk c holds, for row j at offset 8j, the row's
//     packed bytes qs[8c … 8c+7] unchanged (low nibbles: elements 8c…8c+7, high nibbles:
//     elements 16+8c … 16+8c+7).
// A zmm load of a chunk therefore holds 8 consecutive elements of all 8 rows, and a 64-bit
// broadcast of the matching 8 activation bytes lines up with it (int32 lanes 2j, 2j+1 = row j).
#pragma once
#include <cstdint>

#include "tensor/dtype.h"

namespace moeinfer {

// True for the types with a kRows8 form (Q8_0, Q4_0).
bool has_rows8_layout(DType t);

// Rewrites `n_rows` plain rows (a multiple of 8) of `cols` elements from src into the kRows8
// layout at dst (same size; src and dst must not overlap).
void repack_rows8(DType t, const uint8_t* src, int64_t n_rows, int64_t cols, uint8_t* dst);

// Row `row` of a kRows8 matrix (whose group starts are 8 plain rows apart) back in the plain block
// layout, into out (one plain row of bytes).
void unpack_row_rows8(DType t, const uint8_t* data, int64_t row, int64_t cols, uint8_t* out);

}  // namespace moeinfer
