// The kernel table: one function per (family, dtype), chosen once for an instruction-set level.
// Model code calls through this table and never tests CPU features itself.
#pragma once
#include <array>
#include <atomic>
#include <string>

#include "base/cpu_features.h"
#include "kernels/act/act.h"
#include "kernels/matmul/matmul.h"
#include "kernels/matmul_t/matmul_t.h"
#include "kernels/qmatmul/qmatmul.h"
#include "kernels/quant_act/quant_act.h"
#include "kernels/vec/vec.h"

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
  // Quantized weights (Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K); nullptr for other types. The first
  // call for a type whose kernel runs below the requested level says so once on stderr.
  QMatmulFn qmatmul(DType t) const;
  // The kernel for weights in Layout::kRows8 (tensor/repack.h); nullptr when this level has none,
  // and then weights must stay plain.
  QMatmulFn qmatmul_r8(DType t) const;
  // The activation quantizer for `at` = activation_type(weight type) (kQ8_0 or kQ8_K); nullptr for
  // other types. Every level writes the reference's bytes.
  QuantActFn quant_act(DType at) const {
    return at == DType::kQ8_0 ? quant_q8_0_ : at == DType::kQ8_K ? quant_q8_k_ : nullptr;
  }
  // Attention's F32 vector kernels.
  DotF32Fn dot_f32() const { return dot_f32_; }
  AxpyF32Fn axpy_f32() const { return axpy_f32_; }
  ScoresKtFn scores_kt() const { return scores_kt_; }
  WsumRowsFn wsum_rows() const { return wsum_rows_; }
  // Softmax and SwiGLU with a vectorized exp.
  SoftmaxFn softmax() const { return softmax_; }
  SwigluFn swiglu() const { return swiglu_; }

 private:
  static constexpr size_t kSlots = 48;  // ggml type ids 0..39 (+ spare); slot kSlots = F8_E4M3
  static size_t slot(DType t);
  Isa isa_;
  std::array<MatmulFn, kSlots + 1> matmul_{};
  std::array<Isa, kSlots + 1> matmul_isa_{};
  std::array<MatmulTFn, kSlots + 1> matmul_t_{};
  std::array<QMatmulFn, kSlots + 1> qmatmul_{};
  std::array<QMatmulFn, kSlots + 1> qmatmul_r8_{};
  QuantActFn quant_q8_0_ = nullptr;
  QuantActFn quant_q8_k_ = nullptr;
  DotF32Fn dot_f32_ = nullptr;
  AxpyF32Fn axpy_f32_ = nullptr;
  ScoresKtFn scores_kt_ = nullptr;
  WsumRowsFn wsum_rows_ = nullptr;
  SoftmaxFn softmax_ = nullptr;
  SwigluFn swiglu_ = nullptr;
  std::array<Isa, kSlots + 1> qmatmul_isa_{};
  mutable std::array<std::atomic<bool>, kSlots + 1> fallback_noted_{};
};

// Chooses the level from an explicit option (may be empty), then $MOEINFER_ISA, then the best the
// CPU has.
Isa resolve_isa(const std::string& option_value);

}  // namespace moeinfer
