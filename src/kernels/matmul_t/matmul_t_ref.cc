// Scalar reference for y = Wᵀ·x (contract in matmul_t.h): rows of W are scaled by x[r] and
// accumulated into y, so W is read row by row, contiguously.
#include <cstring>
#include <vector>

#include "kernels/matmul_t/matmul_t.h"
#include "tensor/fp16.h"
#include "tensor/fp8.h"

namespace moeinfer {

namespace {

template <typename Load>
void matmul_t_generic(const MatmulTArgs& a, int64_t c0, int64_t c1, Load load) {
  for (int64_t t = 0; t < a.n_tok; ++t) {
    float* y = a.y + t * a.ldy;
    for (int64_t c = c0; c < c1; ++c) y[c] = 0.0f;
    for (int64_t r = 0; r < a.rows; ++r) {
      const float xr = a.x[t * a.rows + r];
      const uint8_t* row = a.w + static_cast<uint64_t>(r) * a.row_bytes;
      for (int64_t c = c0; c < c1; ++c) y[c] += xr * load(row, r, c);
    }
  }
}

}  // namespace

MatmulTFn matmul_t_ref(DType t) {
  switch (t) {
    case DType::kF32:
      return [](const MatmulTArgs& a, int64_t c0, int64_t c1) {
        matmul_t_generic(a, c0, c1, [](const uint8_t* row, int64_t, int64_t c) {
          float v;
          std::memcpy(&v, row + 4 * c, 4);
          return v;
        });
      };
    case DType::kF16:
      return [](const MatmulTArgs& a, int64_t c0, int64_t c1) {
        matmul_t_generic(a, c0, c1, [](const uint8_t* row, int64_t, int64_t c) {
          uint16_t h;
          std::memcpy(&h, row + 2 * c, 2);
          return f16_to_f32(h);
        });
      };
    case DType::kBF16:
      return [](const MatmulTArgs& a, int64_t c0, int64_t c1) {
        matmul_t_generic(a, c0, c1, [](const uint8_t* row, int64_t, int64_t c) {
          uint16_t h;
          std::memcpy(&h, row + 2 * c, 2);
          return bf16_to_f32(h);
        });
      };
    case DType::kF8_E4M3:
      return [](const MatmulTArgs& a, int64_t c0, int64_t c1) {
        const float* lut = fp8_e4m3_table();
        matmul_t_generic(a, c0, c1, [&](const uint8_t* row, int64_t r, int64_t c) {
          return lut[row[c]] * a.scale[((r + a.scale_row0) / a.block_rows) * a.scale_cols + c / a.block_cols];
        });
      };
    default:
      return nullptr;
  }
}

}  // namespace moeinfer
