// The AMX kernel (qmatmul_amx_impl.h) on the scalar tile model (amx_tiles.h): slow, for tests only,
// so that the kernel's layout and loops are checked against the reference on any AVX-512 VNNI CPU.
#include "kernels/qmatmul/qmatmul_amx_impl.h"

namespace moeinfer {

namespace {

template <DType kType>
void emulated_r8(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  amx_detail::matmul<EmulatedTiles, kType>(a, r0, r1, qmatmul_r8_avx512(kType));
}

}  // namespace

QMatmulFn qmatmul_r8_amx_emulated(DType t) {
  switch (t) {
    case DType::kQ8_0: return &emulated_r8<DType::kQ8_0>;
    case DType::kQ4_0: return &emulated_r8<DType::kQ4_0>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
