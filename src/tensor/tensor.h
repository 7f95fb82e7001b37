// A typed, read-only view of tensor data (usually inside a mapped model file).
// Shapes use ggml's order: ne[0] is the innermost (contiguous) dimension. A matrix W with
// ne = {in, out} is row-major [out][in]: row r holds the `in` weights of output r, and the
// engine computes y = W·x (y[r] = sum_i W[r][i] * x[i]).
#pragma once
#include <cstdint>
#include <string>

#include "tensor/dtype.h"

namespace moeinfer {

struct TensorView {
  std::string name;
  DType type = DType::kF32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;

  int64_t numel() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t cols() const { return ne[0]; }                  // elements per row
  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }  // all outer dimensions
  uint64_t row_bytes() const { return rows() > 0 ? nbytes / static_cast<uint64_t>(rows()) : 0; }
  bool valid() const { return data != nullptr; }
};

}  // namespace moeinfer
