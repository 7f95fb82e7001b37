#include "kernels/vec/vec.h"

namespace moeinfer {

DotF32Fn select_dot_f32(Isa isa) {
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512)) return dot_f32_avx512;
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return dot_f32_avx2;
  return dot_f32_ref;
}

AxpyF32Fn select_axpy_f32(Isa isa) {
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512)) return axpy_f32_avx512;
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return axpy_f32_avx2;
  return axpy_f32_ref;
}

ScoresKtFn select_scores_kt(Isa isa) {
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512)) return scores_kt_avx512;
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return scores_kt_avx2;
  return scores_kt_ref;
}

WsumRowsFn select_wsum_rows(Isa isa) {
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512)) return wsum_rows_avx512;
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return wsum_rows_avx2;
  return wsum_rows_ref;
}

}  // namespace moeinfer
