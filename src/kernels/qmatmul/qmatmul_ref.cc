// Scalar reference dot products of quantized weight blocks with quantized activation blocks
// (ggml-quants.c's generic ggml_vec_dot_*), and the matmul loop over them.
#include <cstring>

#include "kernels/qmatmul/qmatmul.h"
#include "tensor/fp16.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

float dot_q8_0(int64_t n, const void* wv, const void* xv) {
  const BlockQ8_0* w = static_cast<const BlockQ8_0*>(wv);
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(xv);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK4; ++b) {
    int s = 0;
    for (int j = 0; j < kQK4; ++j) s += w[b].qs[j] * x[b].qs[j];
    sum += s * (f16_to_f32(w[b].d) * f16_to_f32(x[b].d));
  }
  return sum;
}

float dot_q4_0(int64_t n, const void* wv, const void* xv) {
  const BlockQ4_0* w = static_cast<const BlockQ4_0*>(wv);
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(xv);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK4; ++b) {
    int s = 0;
    for (int j = 0; j < 16; ++j)
      s += ((w[b].qs[j] & 0xF) - 8) * x[b].qs[j] + ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + 16];
    sum += s * (f16_to_f32(w[b].d) * f16_to_f32(x[b].d));
  }
  return sum;
}

float dot_q5_0(int64_t n, const void* wv, const void* xv) {
  const BlockQ5_0* w = static_cast<const BlockQ5_0*>(wv);
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(xv);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK4; ++b) {
    uint32_t qh;
    std::memcpy(&qh, w[b].qh, 4);
    int s = 0;
    for (int j = 0; j < 16; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      s += (((w[b].qs[j] & 0xF) | h0) - 16) * x[b].qs[j] + (((w[b].qs[j] >> 4) | h1) - 16) * x[b].qs[j + 16];
    }
    sum += s * (f16_to_f32(w[b].d) * f16_to_f32(x[b].d));
  }
  return sum;
}

// Q4_K / Q5_K: Σ_sub d·sc·Σ(q·q8) − dmin·m·Σ q8 (the last via Q8_K's bsums).
template <bool kFive>
float dot_qk_affine(int64_t n, const void* wv, const void* xv) {
  const BlockQ8_K* x = static_cast<const BlockQ8_K*>(xv);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const uint8_t* scales;
    const uint8_t* qs;
    const uint8_t* qh = nullptr;
    uint16_t dh, dminh;
    if constexpr (kFive) {
      const BlockQ5_K& w = static_cast<const BlockQ5_K*>(wv)[b];
      scales = w.scales, qs = w.qs, qh = w.qh, dh = w.d, dminh = w.dmin;
    } else {
      const BlockQ4_K& w = static_cast<const BlockQ4_K*>(wv)[b];
      scales = w.scales, qs = w.qs, dh = w.d, dminh = w.dmin;
    }
    int sumi = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, scales, &sc, &m);
      const uint8_t* q = qs + 32 * (j / 2);
      const int8_t* a = x[b].qs + 32 * j;
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        int v = j % 2 == 0 ? (q[l] & 0xF) : (q[l] >> 4);
        if constexpr (kFive) v += (qh[l] >> j) & 1 ? 16 : 0;
        s += v * a[l];
      }
      sumi += sc * s;
      summ += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
    }
    sum += f16_to_f32(dh) * x[b].d * sumi - f16_to_f32(dminh) * x[b].d * summ;
  }
  return sum;
}

float dot_q6_k(int64_t n, const void* wv, const void* xv) {
  const BlockQ6_K* w = static_cast<const BlockQ6_K*>(wv);
  const BlockQ8_K* x = static_cast<const BlockQ8_K*>(xv);
  float sum = 0.0f;
  int8_t q[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const uint8_t* ql = w[b].ql;
    const uint8_t* qh = w[b].qh;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32)
      for (int l = 0; l < 32; ++l) {
        int8_t* o = q + 128 * half;
        o[l] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    int sumi = 0;
    for (int s = 0; s < 16; ++s) {
      int d = 0;
      for (int i = 0; i < 16; ++i) d += q[16 * s + i] * x[b].qs[16 * s + i];
      sumi += w[b].scales[s] * d;
    }
    sum += f16_to_f32(w[b].d) * x[b].d * sumi;
  }
  return sum;
}

using DotFn = float (*)(int64_t, const void*, const void*);

template <DotFn kDot>
void qmatmul_generic(const QMatmulArgs& a, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = a.w + static_cast<uint64_t>(r) * a.row_bytes;
    for (int64_t t = 0; t < a.n_tok; ++t)
      a.y[t * a.ldy + r] = kDot(a.cols, row, a.xq + static_cast<uint64_t>(t) * a.xq_row_bytes);
  }
}

}  // namespace

DType activation_type(DType t) {
  switch (t) {
    case DType::kQ8_0: case DType::kQ4_0: case DType::kQ5_0: return DType::kQ8_0;
    case DType::kQ4_K: case DType::kQ5_K: case DType::kQ6_K: return DType::kQ8_K;
    default: return DType::kF32;
  }
}

QMatmulFn qmatmul_ref(DType t) {
  switch (t) {
    case DType::kQ8_0: return qmatmul_generic<dot_q8_0>;
    case DType::kQ4_0: return qmatmul_generic<dot_q4_0>;
    case DType::kQ5_0: return qmatmul_generic<dot_q5_0>;
    case DType::kQ4_K: return qmatmul_generic<dot_qk_affine<false>>;
    case DType::kQ5_K: return qmatmul_generic<dot_qk_affine<true>>;
    case DType::kQ6_K: return qmatmul_generic<dot_q6_k>;
    default: return nullptr;
  }
}

}  // namespace moeinfer
