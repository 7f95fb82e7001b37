#include "tensor/repack.h"

#include <cstring>

#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

// Bytes of one plain block of t, and of the quants after its F16 scale.
uint64_t block_bytes(DType t) { return t == DType::kQ8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0); }

// Moves one plain block (row j of a group) into/out of its group block. to_group: plain -> group.
void move_block(DType t, uint8_t* plain, uint8_t* group, int j, bool to_group) {
  constexpr uint64_t chunk_bytes = 8;  // bytes of a row per chunk
  const int n_chunks = t == DType::kQ8_0 ? 4 : 2;
  const uint8_t flip = t == DType::kQ8_0 ? 0x80 : 0x00;
  uint8_t* d = group + 2 * j;
  if (to_group) std::memcpy(d, plain, 2);
  else std::memcpy(plain, d, 2);
  for (int k = 0; k < n_chunks; ++k) {
    uint8_t* g = group + 16 + 64 * k + 8 * j;
    uint8_t* p = plain + 2 + chunk_bytes * k;
    for (int i = 0; i < 8; ++i) {
      if (to_group) g[i] = p[i] ^ flip;
      else p[i] = g[i] ^ flip;
    }
  }
}

}  // namespace

bool has_rows8_layout(DType t) { return t == DType::kQ8_0 || t == DType::kQ4_0; }

void repack_rows8(DType t, const uint8_t* src, int64_t n_rows, int64_t cols, uint8_t* dst) {
  const uint64_t bb = block_bytes(t);
  const int64_t nb = cols / 32;
  const uint64_t row_bytes = bb * static_cast<uint64_t>(nb);
  uint8_t tmp[sizeof(BlockQ8_0)];
  for (int64_t g = 0; g < n_rows / 8; ++g) {
    const uint8_t* s = src + static_cast<uint64_t>(g) * 8 * row_bytes;
    uint8_t* d = dst + static_cast<uint64_t>(g) * 8 * row_bytes;
    for (int64_t b = 0; b < nb; ++b)
      for (int j = 0; j < 8; ++j) {
        std::memcpy(tmp, s + static_cast<uint64_t>(j) * row_bytes + static_cast<uint64_t>(b) * bb, bb);
        move_block(t, tmp, d + static_cast<uint64_t>(b) * 8 * bb, j, true);
      }
  }
}

void unpack_row_rows8(DType t, const uint8_t* data, int64_t row, int64_t cols, uint8_t* out) {
  const uint64_t bb = block_bytes(t);
  const int64_t nb = cols / 32;
  const uint64_t row_bytes = bb * static_cast<uint64_t>(nb);
  const uint8_t* group = data + static_cast<uint64_t>(row / 8) * 8 * row_bytes;
  for (int64_t b = 0; b < nb; ++b)
    move_block(t, out + static_cast<uint64_t>(b) * bb, const_cast<uint8_t*>(group + static_cast<uint64_t>(b) * 8 * bb),
               static_cast<int>(row % 8), false);
}

}  // namespace moeinfer
