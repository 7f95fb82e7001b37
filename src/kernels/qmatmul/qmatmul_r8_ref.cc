// Scalar reference for quantized matmul on the kRows8 layout (tensor/repack.h): each row is
// unpacked to its plain blocks and multiplied by the plain scalar reference, so the interleaved
// kernels are checked against exactly the plain layout's results.
#include <vector>

#include "kernels/qmatmul/qmatmul.h"
#include "tensor/repack.h"

namespace moeinfer {

namespace {

template <DType kType>
void r8_ref(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  thread_local std::vector<uint8_t> row;
  row.resize(a.row_bytes);
  const QMatmulFn plain = qmatmul_ref(kType);
  for (int64_t r = r0; r < r1; ++r) {
    unpack_row_rows8(kType, a.w, r, a.cols, row.data());
    QMatmulArgs b = a;
    b.w = row.data();
    b.y = a.y + r;
    plain(b, 0, 1);
  }
}

}  // namespace

QMatmulFn qmatmul_r8_ref(DType t) {
  switch (t) {
    case DType::kQ8_0: return &r8_ref<DType::kQ8_0>;
    case DType::kQ4_0: return &r8_ref<DType::kQ4_0>;
    case DType::kQ4_K: return &r8_ref<DType::kQ4_K>;
    case DType::kQ6_K: return &r8_ref<DType::kQ6_K>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
