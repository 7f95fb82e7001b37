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
//   Q4_K (256 elements, 1152 bytes): bytes 0-15 the 8 rows' F16 d, 16-31 their F16 dmin; then the
//     6-bit scales sc and mins m of the 8 sub-blocks, indexed idx = 8·sub-block + row and split in
//     low nibbles (32-63: sc, 64-95: m; byte k holds idx k in its low and idx k + 32 in its high
//     nibble) and high 2-bit parts (96-111: sc, 112-127: m; bits 2i-2i+1 of byte k hold idx
//     k + 16i); then per sub-block j and half c (16 elements) a 64-byte chunk 2j + c holding, for
//     row r at offset 8r, bytes whose low nibbles are elements 32j + 16c + 0…7 and high nibbles
//     elements 32j + 16c + 8…15. The kernel decodes the 64 scales of a group with a few vector
//     operations instead of 8 scalar unpackings per row.
//   Q6_K (256 elements, 1680 bytes): bytes 0-15 the 8 rows' F16 d; 16-143 the int8 scales of the
//     16 sub-blocks (16 elements each) at 8·sub-block + row; then per sub-block k 96 bytes: a
//     64-byte chunk of low 4 bits (row r at offset 8r: low nibbles elements 16k + 0…7, high
//     nibbles 16k + 8…15), then 32 bytes with the high 2 bits of the chunk's 128 values by
//     position p (0-63: the low nibbles' bytes, 64-127: the high nibbles'): byte p mod 32, bits
//     4-5 for p < 32, 6-7 for p < 64, 0-1 for p < 96, 2-3 above, so that two shifts and a mask
//     put them at bits 4-5 of their byte.
// A zmm load of a chunk therefore holds 8 consecutive elements of all 8 rows, and a 64-bit
// broadcast of the matching 8 activation bytes lines up with it (int32 lanes 2j, 2j+1 = row j).
#pragma once
#include <cstdint>

#include "tensor/dtype.h"

namespace moeinfer {

// True for the types with a kRows8 form (Q8_0, Q4_0, Q4_K, Q6_K).
bool has_rows8_layout(DType t);

// Rewrites `n_rows` plain rows (a multiple of 8) of `cols` elements from src into the kRows8
// layout at dst (same size; src and dst must not overlap).
void repack_rows8(DType t, const uint8_t* src, int64_t n_rows, int64_t cols, uint8_t* dst);

// Row `row` of a kRows8 matrix (whose group starts are 8 plain rows apart) back in the plain block
// layout, into out (one plain row of bytes).
void unpack_row_rows8(DType t, const uint8_t* data, int64_t row, int64_t cols, uint8_t* out);

}  // namespace moeinfer
