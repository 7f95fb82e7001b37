// A typed, read-only view of tensor data (usually inside a mapped model file).
// Shapes use ggml's order: ne[0] is the innermost (contiguous) dimension. A matrix W with
// ne = {in, out} is row-major [out][in]: row r holds the `in` weights of output r, and the
// engine computes y = W·x (y[r] = sum_i W[r][i] * x[i]).
#pragma once
#include <cstdint>
#include <string>

#include "tensor/dtype.h"

namespace moeinfer {

// How a quantized matrix's rows are laid out in memory (tensor/repack.h). kPlain: the file's
// layout, row after row. kRows8: groups of 8 rows interleaved for the VNNI kernels (same bytes per
// group as 8 plain rows, so row slices at multiples of 8 work unchanged).
enum class Layout : uint8_t { kPlain, kRows8 };

struct TensorView {
  std::string name;
  DType type = DType::kF32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;
  // Block-scaled types (F8_E4M3 with DeepSeek's weight_scale_inv): the F32 scale of element
  // (r, c) is block_scale[((r + scale_row0) / block_rows) * scale_cols + c / block_cols].
  // scale_row0 is the absolute row of this view's row 0 (views may be row slices).
  const float* block_scale = nullptr;
  int64_t scale_cols = 0, block_rows = 0, block_cols = 0, scale_row0 = 0;
  Layout layout = Layout::kPlain;

  int64_t numel() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t cols() const { return ne[0]; }                  // elements per row
  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }  // all outer dimensions
  uint64_t row_bytes() const { return rows() > 0 ? nbytes / static_cast<uint64_t>(rows()) : 0; }
  bool valid() const { return data != nullptr; }
  // Rows [r0, r0 + n) of a matrix, as a view of the same type.
  TensorView rows_slice(int64_t r0, int64_t n) const {
    TensorView v;
    rows_slice_to(r0, n, &v);
    return v;
  }
  // The same, written into *out: its name's storage is reused, so once it has held a name this
  // long nothing is allocated (the forward pass slices per head this way).
  void rows_slice_to(int64_t r0, int64_t n, TensorView* out) const {
    const uint64_t rb = row_bytes();
    *out = *this;
    out->ne[1] = n;
    out->ne[2] = out->ne[3] = 1;
    out->n_dims = 2;
    out->data = data + static_cast<uint64_t>(r0) * rb;
    out->nbytes = static_cast<uint64_t>(n) * rb;
    out->scale_row0 = scale_row0 + r0;
  }
};

}  // namespace moeinfer
