// Shared by the interleaved Q8_0/Q4_0 kernels (qmatmul_r8_avx2.cc, qmatmul_r8_avx512.cc): the
// per-block summary of Q8_0 activation rows that their inner loops read, and the group block size.
// Every including TU (compiled with its own ISA flags) gets its own copy.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/qmatmul/qmatmul.h"
#include "tensor/fp16.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {
namespace {

// Per activation block: its scale and the correction each int32 lane subtracts for the weights'
// unsigned offset (half_offset·Σx: the two lanes of a row together remove offset·Σx).
struct XSum {
  float d;
  int32_t c;
};

template <DType kType>
constexpr uint64_t group_block_bytes() {
  return kType == DType::kQ8_0 ? 8 * sizeof(BlockQ8_0) : 8 * sizeof(BlockQ4_0);
}

// xs[t·nb + b] for every token t and 32-element block b of the activation rows.
inline void block_sums(const QMatmulArgs& a, int32_t half_offset, std::vector<XSum>& xs, float d_scale = 1.0f) {
  const int64_t nb = a.cols / 32;
  xs.resize(static_cast<size_t>(a.n_tok * nb));
  for (int64_t t = 0; t < a.n_tok; ++t) {
    const BlockQ8_0* x = reinterpret_cast<const BlockQ8_0*>(a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
    for (int64_t b = 0; b < nb; ++b) {
      int32_t sum = 0;
      for (int i = 0; i < 32; ++i) sum += x[b].qs[i];
      xs[static_cast<size_t>(t * nb + b)] = {f16_to_f32(x[b].d) * d_scale, half_offset * sum};
    }
  }
}

}  // namespace
}  // namespace moeinfer
