// The AMX int8 kernel on real tiles (compiled with -mamx-tile -mamx-int8; called only after
// amx_ready() in qmatmul_amx_dispatch.cc has the OS permission and a passing self-check).
#include <immintrin.h>

#include "kernels/qmatmul/qmatmul_amx_impl.h"

namespace moeinfer {

namespace {

// GCC's tile intrinsics paste their tile number into the instruction text, so each number the
// kernel uses (C = 0, A = 1, B = 2) is spelled out.
struct HwTiles {
  static void config(const TileConfig* c) { _tile_loadconfig(c); }
  template <int T>
  static void zero() {
    static_assert(T == 0, "the kernel zeroes tile 0 only");
    _tile_zero(0);
  }
  template <int T>
  static void load(const void* p, int64_t stride) {
    static_assert(T == 1 || T == 2, "the kernel loads tiles 1 and 2");
    if constexpr (T == 1) _tile_loadd(1, p, stride);
    else _tile_loadd(2, p, stride);
  }
  template <int T>
  static void store(void* p, int64_t stride) {
    static_assert(T == 0, "the kernel stores tile 0 only");
    _tile_stored(0, p, stride);
  }
  template <int C, int A, int B>
  static void dp_ss() {
    static_assert(C == 0 && A == 1 && B == 2, "the kernel multiplies tiles 1 and 2 into 0");
    _tile_dpbssd(0, 1, 2);
  }
  static void release() { _tile_release(); }
};

template <DType kType>
void amx_r8(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  amx_detail::matmul<HwTiles, kType>(a, r0, r1, qmatmul_r8_avx512(kType));
}

}  // namespace

QMatmulFn qmatmul_r8_amx_unchecked(DType t) {
  switch (t) {
    case DType::kQ8_0: return &amx_r8<DType::kQ8_0>;
    case DType::kQ4_0: return &amx_r8<DType::kQ4_0>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
