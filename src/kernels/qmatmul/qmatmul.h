// Matrix multiplication for quantized weights (Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K), as ggml
// computes it: the activations are first quantized into the block type ggml pairs with the weight
// type (Q8_0 for Q8_0/Q4_0/Q5_0, Q8_K for the k-quants) — with the reference quantizer's bytes at
// every ISA — then each output is a sum over blocks of (integer dot product) × scales.
//
// Contract: for rows r in [r0, r1) and tokens t in [0, n_tok):
//   y[t * ldy + r] = vec_dot(W row r, xq row t)
// W rows are `row_bytes` apart; xq holds n_tok rows of quantized activations `xq_row_bytes` apart.
// Different ISAs sum in different orders: results agree to float rounding of the per-block terms.
#pragma once
#include <cstdint>

#include "base/cpu_features.h"
#include "tensor/dtype.h"

namespace moeinfer {

struct QMatmulArgs {
  const uint8_t* w;
  uint64_t row_bytes;
  int64_t cols;
  const uint8_t* xq;
  uint64_t xq_row_bytes;
  int64_t n_tok;
  float* y;
  int64_t ldy;
};

using QMatmulFn = void (*)(const QMatmulArgs& a, int64_t r0, int64_t r1);

// The activation block type for a quantized weight type (kF32 when `t` is not quantized).
DType activation_type(DType t);

QMatmulFn qmatmul_ref(DType t);
QMatmulFn qmatmul_avx2(DType t);
QMatmulFn qmatmul_avx512(DType t);  // Q8_0, Q4_0, Q4_K, Q6_K (needs AVX512-VNNI); nullptr otherwise
QMatmulFn qmatmul_kquant_avx512(DType t);  // the Q4_K and Q6_K part of qmatmul_avx512
// Falls back to lower levels; *used receives the level chosen. nullptr when `t` has no kernel.
QMatmulFn select_qmatmul(DType t, Isa isa, Isa* used = nullptr);

// The same contract on weights in the interleaved Layout::kRows8 (tensor/repack.h), for Q8_0,
// Q4_0 and Q4_K; r0 and r1 must be multiples of 8. The reference unpacks each row and runs qmatmul_ref.
QMatmulFn qmatmul_r8_ref(DType t);
QMatmulFn qmatmul_r8_avx2(DType t);  // Q8_0 and Q4_0
QMatmulFn qmatmul_r8_avx512(DType t);  // needs AVX512-VNNI
QMatmulFn qmatmul_r8_kquant_avx512(DType t);  // the Q4_K and Q6_K part of qmatmul_r8_avx512
// AMX int8 tiles for batches of 32+ tokens on kRows8 Q8_0/Q4_0 weights (qmatmul_amx_impl.h; the
// rest through qmatmul_r8_avx512). qmatmul_r8_amx returns nullptr unless amx_ready(): the CPU has
// AMX-INT8, Linux granted the tile state, and the kernel passed its self-check (done once, on the
// first call; every failure says so on stderr). The _unchecked form skips that; the _emulated
// form runs the same kernel on a scalar model of the tile instructions (tests, any VNNI CPU).
bool amx_ready();
QMatmulFn qmatmul_r8_amx(DType t);
QMatmulFn qmatmul_r8_amx_unchecked(DType t);
QMatmulFn qmatmul_r8_amx_emulated(DType t);
// The kRows8 kernel for `isa`, or nullptr when that level has none (then weights stay plain).
QMatmulFn select_qmatmul_r8(DType t, Isa isa);

}  // namespace moeinfer
