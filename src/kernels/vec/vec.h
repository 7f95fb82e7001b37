// Small F32 vector kernels for attention: dot products of a query with keys and accumulating
// weighted value rows. The scalar reference sums in order; the SIMD versions keep 16 (AVX-512) or
// 8 (AVX2) partial sums, so results differ by float rounding only (F32 accumulation at every ISA).
#pragma once
#include <cstdint>

#include "base/cpu_features.h"

namespace moeinfer {

// Σ a[i]·b[i], i < n.
using DotF32Fn = float (*)(const float* a, const float* b, int64_t n);
// y[i] += alpha·x[i], i < n.
using AxpyF32Fn = void (*)(float alpha, const float* x, float* y, int64_t n);
// Scores of one query against n keys stored transposed (kt[i·ld + p] = element i of key p):
// out[p] = scale·Σ_{i<d} q[i]·kt[i·ld + p], summed over i in order for every p; the SIMD versions
// run 16 or 8 keys side by side, with no horizontal sums.
using ScoresKtFn = void (*)(const float* q, const float* kt, int64_t ld, int64_t n, int64_t d, float scale, float* out);
// Weighted sum of n rows: out[i] += Σ_{p<n} w[p]·v[p·ld + i], i < d, accumulated over p in order
// (the SIMD versions keep out in registers for d ≤ 128 and fall back to axpy-style passes above).
using WsumRowsFn = void (*)(const float* w, const float* v, int64_t ld, int64_t n, int64_t d, float* out);

float dot_f32_ref(const float* a, const float* b, int64_t n);
void axpy_f32_ref(float alpha, const float* x, float* y, int64_t n);
float dot_f32_avx2(const float* a, const float* b, int64_t n);
void axpy_f32_avx2(float alpha, const float* x, float* y, int64_t n);
float dot_f32_avx512(const float* a, const float* b, int64_t n);
void axpy_f32_avx512(float alpha, const float* x, float* y, int64_t n);
void scores_kt_ref(const float* q, const float* kt, int64_t ld, int64_t n, int64_t d, float scale, float* out);
void scores_kt_avx2(const float* q, const float* kt, int64_t ld, int64_t n, int64_t d, float scale, float* out);
void scores_kt_avx512(const float* q, const float* kt, int64_t ld, int64_t n, int64_t d, float scale, float* out);
void wsum_rows_ref(const float* w, const float* v, int64_t ld, int64_t n, int64_t d, float* out);
void wsum_rows_avx512(const float* w, const float* v, int64_t ld, int64_t n, int64_t d, float* out);

DotF32Fn select_dot_f32(Isa isa);
AxpyF32Fn select_axpy_f32(Isa isa);
ScoresKtFn select_scores_kt(Isa isa);
WsumRowsFn select_wsum_rows(Isa isa);

}  // namespace moeinfer
