#include "kernels/dispatch.h"

#include <cstdio>
#include <cstdlib>

#include "base/error.h"

namespace moeinfer {

size_t Kernels::slot(DType t) {
  uint32_t id = static_cast<uint32_t>(t);
  return id < kSlots ? id : kSlots;  // F8_E4M3 (id 1000) is the only type outside ggml's range
}

Kernels::Kernels(Isa isa) : isa_(isa) {
  if (!isa_supported(isa))
    throw UsageError("--isa", std::string("this CPU does not support ") + isa_name(isa) +
                                  " (best available: " + isa_name(best_isa()) + ")");
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kF8_E4M3}) {
    Isa used = Isa::kScalar;
    matmul_[slot(t)] = select_matmul(t, isa, &used);
    matmul_isa_[slot(t)] = used;
    matmul_t_[slot(t)] = matmul_t_ref(t);
  }
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ5_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    Isa used = Isa::kScalar;
    qmatmul_[slot(t)] = select_qmatmul(t, isa, &used);
    qmatmul_isa_[slot(t)] = used;
    qmatmul_r8_[slot(t)] = select_qmatmul_r8(t, isa);
  }
  quant_q8_0_ = select_quant_act(DType::kQ8_0, isa);
  quant_q8_k_ = select_quant_act(DType::kQ8_K, isa);
  dot_f32_ = select_dot_f32(isa);
  axpy_f32_ = select_axpy_f32(isa);
  scores_kt_ = select_scores_kt(isa);
  wsum_rows_ = select_wsum_rows(isa);
  softmax_ = select_softmax(isa);
  swiglu_ = select_swiglu(isa);
}

MatmulFn Kernels::matmul(DType t) const { return matmul_[slot(t)]; }
Isa Kernels::matmul_isa(DType t) const {
  return activation_type(t) != DType::kF32 ? qmatmul_isa_[slot(t)] : matmul_isa_[slot(t)];
}

QMatmulFn Kernels::qmatmul(DType t) const {
  const size_t s = slot(t);
  const Isa want = isa_;
  if (qmatmul_[s] && qmatmul_isa_[s] < want && !fallback_noted_[s].exchange(true))
    std::fprintf(stderr, "moeinfer: note: no %s kernel for %s weights yet; using %s\n", isa_name(want), dtype_name(t),
                 isa_name(qmatmul_isa_[s]));
  return qmatmul_[s];
}
MatmulTFn Kernels::matmul_t(DType t) const { return matmul_t_[slot(t)]; }
QMatmulFn Kernels::qmatmul_r8(DType t) const { return qmatmul_r8_[slot(t)]; }

Isa resolve_isa(const std::string& option_value) {
  if (!option_value.empty()) return parse_isa(option_value, "--isa");
  if (const char* env = std::getenv("MOEINFER_ISA"); env && *env) return parse_isa(env, "MOEINFER_ISA");
  return best_isa();
}

}  // namespace moeinfer
