#include "kernels/dispatch.h"

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
}

MatmulFn Kernels::matmul(DType t) const { return matmul_[slot(t)]; }
Isa Kernels::matmul_isa(DType t) const { return matmul_isa_[slot(t)]; }
MatmulTFn Kernels::matmul_t(DType t) const { return matmul_t_[slot(t)]; }

Isa resolve_isa(const std::string& option_value) {
  if (!option_value.empty()) return parse_isa(option_value, "--isa");
  if (const char* env = std::getenv("MOEINFER_ISA"); env && *env) return parse_isa(env, "MOEINFER_ISA");
  return best_isa();
}

}  // namespace moeinfer
