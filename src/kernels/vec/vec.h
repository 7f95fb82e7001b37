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
// Scores of `rows` queries (q[r·ldq + i]) against n keys stored transposed (kt[i·ldk + p] =
// element i of key p): out[r·ldo + p] = scale·Σ_{i<d} q[r·ldq + i]·kt[i·ldk + p], summed over i in
// order for every (r, p). The SIMD versions hold a tile of rows × keys in registers, so a key
// vector loaded once serves every row of the tile (GQA heads and several tokens of a batch).
using ScoresKtFn = void (*)(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t n,
                            int64_t d, float scale, float* out, int64_t ldo);
// Weighted sums of n value rows for `rows` weight vectors: out[r·ldo + i] += Σ_{p<n} w[r·ldw + p]·
// v[p·ldv + i], i < d, accumulated over p in order; the SIMD versions keep a tile of rows × 64
// columns of out in registers while the value rows stream past.
using WsumRowsFn = void (*)(const float* w, int64_t ldw, int64_t rows, const float* v, int64_t ldv, int64_t n,
                            int64_t d, float* out, int64_t ldo);

float dot_f32_ref(const float* a, const float* b, int64_t n);
void axpy_f32_ref(float alpha, const float* x, float* y, int64_t n);
float dot_f32_avx2(const float* a, const float* b, int64_t n);
void axpy_f32_avx2(float alpha, const float* x, float* y, int64_t n);
float dot_f32_avx512(const float* a, const float* b, int64_t n);
void axpy_f32_avx512(float alpha, const float* x, float* y, int64_t n);
void scores_kt_ref(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t n, int64_t d,
                   float scale, float* out, int64_t ldo);
void scores_kt_avx2(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t n, int64_t d,
                   float scale, float* out, int64_t ldo);
void scores_kt_avx512(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t n, int64_t d,
                   float scale, float* out, int64_t ldo);
void wsum_rows_ref(const float* w, int64_t ldw, int64_t rows, const float* v, int64_t ldv, int64_t n, int64_t d,
                   float* out, int64_t ldo);
void wsum_rows_avx2(const float* w, int64_t ldw, int64_t rows, const float* v, int64_t ldv, int64_t n, int64_t d,
                   float* out, int64_t ldo);
void wsum_rows_avx512(const float* w, int64_t ldw, int64_t rows, const float* v, int64_t ldv, int64_t n, int64_t d,
                   float* out, int64_t ldo);

DotF32Fn select_dot_f32(Isa isa);
AxpyF32Fn select_axpy_f32(Isa isa);
ScoresKtFn select_scores_kt(Isa isa);
WsumRowsFn select_wsum_rows(Isa isa);

}  // namespace moeinfer
