#include <cmath>

#include "kernels/act/act.h"

namespace moeinfer {

void softmax_ref(float* x, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu_ref(float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = a[i];
    a[i] = v / (1.0f + std::exp(-v)) * b[i];
  }
}

void exp_ref(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::exp(x[i]);
}

}  // namespace moeinfer
