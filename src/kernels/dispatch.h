// The kernel table: one function per (family, dtype), chosen once for an instruction-set level.
// Model code calls through this table and never tests CPU features itself.
#pragma once
#include <array>
#include <string>

#include "base/cpu_features.h"
#include "kernels/matmul/matmul.h"
#include "kernels/matmul_t/matmul_t.h"

namespace moeinfer {

class Kernels {
 public:
  // Builds the table for `isa`. Throws UsageError when the CPU (or OS) lacks that level.
  explicit Kernels(Isa isa);

  Isa isa() const { return isa_; }
  // nullptr when no kernel exists for the type (the loader rejects such weights first).
  MatmulFn matmul(DType t) const;
  // The level actually used for `t` (a type without a kernel at `isa` falls back to a lower one).
  Isa matmul_isa(DType t) const;
  MatmulTFn matmul_t(DType t) const;

 private:
  static constexpr size_t kSlots = 48;  // ggml type ids 0..39 (+ spare); slot kSlots = F8_E4M3
  static size_t slot(DType t);
  Isa isa_;
  std::array<MatmulFn, kSlots + 1> matmul_{};
  std::array<Isa, kSlots + 1> matmul_isa_{};
  std::array<MatmulTFn, kSlots + 1> matmul_t_{};
};

// Chooses the level from an explicit option (may be empty), then $MOEINFER_ISA, then the best the
// CPU has.
Isa resolve_isa(const std::string& option_value);

}  // namespace moeinfer
