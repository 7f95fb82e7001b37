#include "kernels/vec/vec.h"

namespace moeinfer {

float dot_f32_ref(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_f32_ref(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void scores_kt_ref(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t n, int64_t d,
                   float scale, float* out, int64_t ldo) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < n; ++p) {
      float s = 0.0f;
      for (int64_t i = 0; i < d; ++i) s += q[r * ldq + i] * kt[i * ldk + p];
      out[r * ldo + p] = s * scale;
    }
}

void wsum_rows_ref(const float* w, int64_t ldw, int64_t rows, const float* v, int64_t ldv, int64_t n, int64_t d,
                   float* out, int64_t ldo) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < n; ++p) axpy_f32_ref(w[r * ldw + p], v + p * ldv, out + r * ldo, d);
}

}  // namespace moeinfer
