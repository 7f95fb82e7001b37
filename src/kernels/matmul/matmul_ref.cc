// Scalar reference for the matmul family (see matmul.h for the contract).
#include <cstring>

#include "kernels/matmul/matmul.h"
#include "tensor/fp16.h"
#include "tensor/fp8.h"

namespace moeinfer {

namespace {

template <typename Load>
void matmul_generic(const MatmulArgs& a, int64_t r0, int64_t r1, Load load) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const float* x = a.x + t * a.cols;
      float sum = 0.0f;
      for (int64_t i = 0; i < a.cols; ++i) sum += load(row, i) * x[i];
      a.y[t * a.ldy + r] = sum;
    }
  }
}

void matmul_f32(const MatmulArgs& a, int64_t r0, int64_t r1) {
  matmul_generic(a, r0, r1, [](const uint8_t* row, int64_t i) {
    float v;
    std::memcpy(&v, row + 4 * i, 4);
    return v;
  });
}

void matmul_f16(const MatmulArgs& a, int64_t r0, int64_t r1) {
  matmul_generic(a, r0, r1, [](const uint8_t* row, int64_t i) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    return f16_to_f32(h);
  });
}

void matmul_bf16(const MatmulArgs& a, int64_t r0, int64_t r1) {
  matmul_generic(a, r0, r1, [](const uint8_t* row, int64_t i) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    return bf16_to_f32(h);
  });
}

void matmul_f8_e4m3(const MatmulArgs& a, int64_t r0, int64_t r1) {
  const float* lut = fp8_e4m3_table();
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    const float* srow = a.scale + ((r + a.scale_row0) / a.block_rows) * a.scale_cols;
    for (int64_t t = 0; t < a.n_tok; ++t) {
      const float* x = a.x + t * a.cols;
      float sum = 0.0f;
      for (int64_t i = 0; i < a.cols; ++i) sum += lut[row[i]] * srow[i / a.block_cols] * x[i];
      a.y[t * a.ldy + r] = sum;
    }
  }
}

}  // namespace

MatmulFn matmul_ref(DType t) {
  switch (t) {
    case DType::kF32: return matmul_f32;
    case DType::kF16: return matmul_f16;
    case DType::kBF16: return matmul_bf16;
    case DType::kF8_E4M3: return matmul_f8_e4m3;
    default: return nullptr;
  }
}

}  // namespace moeinfer
