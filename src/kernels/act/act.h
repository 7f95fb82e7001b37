// Element-wise kernels with an exponential: softmax (attention scores, router logits) and SwiGLU's
// silu(a)·b. The scalar reference calls std::exp; the SIMD versions evaluate exp with a range
// reduction to [-ln2/2, ln2/2] and a degree-6 polynomial (relative error below 2e-7 against
// std::exp), so results differ from the reference by float rounding only.
#pragma once
#include <cstdint>

#include "base/cpu_features.h"

namespace moeinfer {

// In place: x[i] = exp(x[i] - max) / Σ exp(x[j] - max), i < n (n ≥ 1).
using SoftmaxFn = void (*)(float* x, int64_t n);
// In place: a[i] = silu(a[i])·b[i], silu(v) = v / (1 + exp(-v)).
using SwigluFn = void (*)(float* a, const float* b, int64_t n);
// out[i] = exp(x[i]), i < n (exposed for the accuracy test).
using ExpFn = void (*)(const float* x, float* out, int64_t n);

void softmax_ref(float* x, int64_t n);
void swiglu_ref(float* a, const float* b, int64_t n);
void exp_ref(const float* x, float* out, int64_t n);
void softmax_avx2(float* x, int64_t n);
void swiglu_avx2(float* a, const float* b, int64_t n);
void exp_avx2(const float* x, float* out, int64_t n);
void softmax_avx512(float* x, int64_t n);
void swiglu_avx512(float* a, const float* b, int64_t n);
void exp_avx512(const float* x, float* out, int64_t n);

SoftmaxFn select_softmax(Isa isa);
SwigluFn select_swiglu(Isa isa);
ExpFn select_exp(Isa isa);

}  // namespace moeinfer
