#include "tensor/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/fp16.h"
#include "tensor/fp8.h"
#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

// Round half to even (lrintf in the default rounding mode): adding and removing 1.5·2^23 leaves
// f rounded to an integer by the FPU (exact for |f| < 2^22; larger values saturate there, which
// every caller clamps further). No libm call, so the loops vectorize.
inline int nearest_int(float f) {
  constexpr float kMagic = 12582912.0f, kLimit = 4194304.0f;
  f = std::min(std::max(f, -kLimit), kLimit);
  return static_cast<int>((f + kMagic) - kMagic);
}

// roundf (half away from zero) for |f| < 2^31: the truncation's remainder is exact in F32.
inline int round_half_away(float f) {
  const int t = static_cast<int>(f);
  const float r = f - static_cast<float>(t);
  return t + (r >= 0.5f) - (r <= -0.5f);
}

// ---- Q8_0 / Q4_0 / Q5_0 (ggml's reference rounding) ----

void quantize_q8_0(const float* x, int64_t n, BlockQ8_0* y) {
  for (int64_t b = 0; b < n / kQK4; ++b, x += kQK4) {
    float amax = 0.0f;
    for (int j = 0; j < kQK4; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK4; ++j) y[b].qs[j] = static_cast<int8_t>(round_half_away(x[j] * id));
  }
}

void dequantize_q8_0(const BlockQ8_0* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQK4; ++b) {
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < kQK4; ++j) y[b * kQK4 + j] = x[b].qs[j] * d;
  }
}

// The signed value of largest magnitude (ggml scales by it so that it maps to the lowest level).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j)
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

void quantize_q4_0(const float* x, int64_t n, BlockQ4_0* y) {
  for (int64_t b = 0; b < n / kQK4; ++b, x += kQK4) {
    const float d = signed_absmax(x, kQK4) / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int j = 0; j < 16; ++j) {
      const uint8_t a = static_cast<uint8_t>(std::min<int>(15, static_cast<int8_t>(x[j] * id + 8.5f)));
      const uint8_t c = static_cast<uint8_t>(std::min<int>(15, static_cast<int8_t>(x[j + 16] * id + 8.5f)));
      y[b].qs[j] = a | (c << 4);
    }
  }
}

void dequantize_q4_0(const BlockQ4_0* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQK4; ++b) {
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < 16; ++j) {
      y[b * kQK4 + j] = ((x[b].qs[j] & 0xF) - 8) * d;
      y[b * kQK4 + j + 16] = ((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

void quantize_q5_0(const float* x, int64_t n, BlockQ5_0* y) {
  for (int64_t b = 0; b < n / kQK4; ++b, x += kQK4) {
    const float d = signed_absmax(x, kQK4) / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const uint8_t a = static_cast<uint8_t>(std::min<int>(31, static_cast<int8_t>(x[j] * id + 16.5f)));
      const uint8_t c = static_cast<uint8_t>(std::min<int>(31, static_cast<int8_t>(x[j + 16] * id + 16.5f)));
      y[b].qs[j] = (a & 0x0F) | ((c & 0x0F) << 4);
      qh |= ((a & 0x10u) >> 4) << j;
      qh |= ((c & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[b].qh, &qh, 4);
  }
}

void dequantize_q5_0(const BlockQ5_0* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQK4; ++b) {
    const float d = f16_to_f32(x[b].d);
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[b * kQK4 + j] = (((x[b].qs[j] & 0x0F) | h0) - 16) * d;
      y[b * kQK4 + j + 16] = (((x[b].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

// ---- Q8_K (activations, ggml's reference) ----

void quantize_q8_k(const float* x, int64_t n, BlockQ8_K* y) {
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    const float max = signed_absmax(x, kQKK);
    if (max == 0.0f) {
      std::memset(&y[b], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j) y[b].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < 16; ++j) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += y[b].qs[16 * j + i];
      y[b].bsums[j] = static_cast<int16_t>(s);
    }
    y[b].d = 1.0f / iscale;
  }
}

void dequantize_q8_k(const BlockQ8_K* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQKK; ++b)
    for (int j = 0; j < kQKK; ++j) y[b * kQKK + j] = x[b].d * x[b].qs[j];
}

// ---- Q4_K / Q5_K ----

void pack_scales_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
    out[j + 4] = (m[j] & 63) | ((m[j + 4] >> 4) << 6);
    out[j + 8] = (sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4);
  }
}

// Affine fit per sub-block of 32 with `levels` steps: x ≈ d·sc·q - dmin·m. Writes q (0..levels).
void fit_k_affine(const float* x, int levels, uint16_t* d_out, uint16_t* dmin_out, uint8_t scales[12], uint8_t* q) {
  float scale[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    float lo = 0.0f, hi = 0.0f;  // the min is clamped at 0 as ggml does (m >= 0)
    for (int i = 0; i < 32; ++i) {
      lo = std::min(lo, x[32 * j + i]);
      hi = std::max(hi, x[32 * j + i]);
    }
    scale[j] = (hi - lo) / levels;
    mn[j] = -lo;
  }
  const float max_scale = *std::max_element(scale, scale + 8), max_min = *std::max_element(mn, mn + 8);
  const float d = max_scale / 63.0f, dmin = max_min / 63.0f;
  *d_out = f32_to_f16(d);
  *dmin_out = f32_to_f16(dmin);
  const float dq = f16_to_f32(*d_out), dminq = f16_to_f32(*dmin_out);
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(std::clamp(dq > 0 ? nearest_int(scale[j] / dq) : 0, 0, 63));
    m[j] = static_cast<uint8_t>(std::clamp(dminq > 0 ? nearest_int(mn[j] / dminq) : 0, 0, 63));
  }
  pack_scales_k4(sc, m, scales);
  for (int j = 0; j < 8; ++j) {
    const float s = dq * sc[j], off = dminq * m[j];
    for (int i = 0; i < 32; ++i)
      q[32 * j + i] = static_cast<uint8_t>(s > 0 ? std::clamp(nearest_int((x[32 * j + i] + off) / s), 0, levels) : 0);
  }
}

void quantize_q4_k(const float* x, int64_t n, BlockQ4_K* y) {
  uint8_t q[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    fit_k_affine(x, 15, &y[b].d, &y[b].dmin, y[b].scales, q);
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) y[b].qs[32 * k + l] = q[64 * k + l] | (q[64 * k + 32 + l] << 4);
  }
}

void dequantize_q4_k(const BlockQ4_K* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float d = f16_to_f32(x[b].d), min = f16_to_f32(x[b].dmin);
    const uint8_t* q = x[b].qs;
    for (int j = 0, is = 0; j < kQKK; j += 64, is += 2, q += 32) {
      uint8_t sc, m;
      get_scale_min_k4(is, x[b].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[b].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

void quantize_q5_k(const float* x, int64_t n, BlockQ5_K* y) {
  uint8_t q[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    fit_k_affine(x, 31, &y[b].d, &y[b].dmin, y[b].scales, q);
    std::memset(y[b].qh, 0, 32);
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = q[64 * k + l], hi = q[64 * k + 32 + l];
        y[b].qs[32 * k + l] = (lo & 0xF) | ((hi & 0xF) << 4);
        y[b].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * k)) | ((hi >> 4) << (2 * k + 1)));
      }
  }
}

void dequantize_q5_k(const BlockQ5_K* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float d = f16_to_f32(x[b].d), min = f16_to_f32(x[b].dmin);
    const uint8_t* ql = x[b].qs;
    const uint8_t* qh = x[b].qh;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < kQKK; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      get_scale_min_k4(is, x[b].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[b].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    }
  }
}

// ---- Q6_K ----

void quantize_q6_k(const float* x, int64_t n, BlockQ6_K* y) {
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    float scale[16];
    for (int s = 0; s < 16; ++s) scale[s] = signed_absmax(x + 16 * s, 16) / -32.0f;
    float amax = 0.0f, smax = 0.0f;
    for (int s = 0; s < 16; ++s)
      if (std::fabs(scale[s]) > amax) {
        amax = std::fabs(scale[s]);
        smax = scale[s];
      }
    const float d = smax / -128.0f;
    y[b].d = f32_to_f16(d);
    const float dq = f16_to_f32(y[b].d);
    uint8_t q[kQKK];
    for (int s = 0; s < 16; ++s) {
      const int sc = dq != 0.0f ? std::clamp(nearest_int(scale[s] / dq), -128, 127) : 0;
      y[b].scales[s] = static_cast<int8_t>(sc);
      const float step = dq * sc;
      for (int i = 0; i < 16; ++i)
        q[16 * s + i] = static_cast<uint8_t>(step != 0.0f ? std::clamp(nearest_int(x[16 * s + i] / step), -32, 31) + 32 : 32);
    }
    for (int half = 0; half < 2; ++half) {
      uint8_t* ql = y[b].ql + 64 * half;
      uint8_t* qh = y[b].qh + 32 * half;
      const uint8_t* qq = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = qq[l], q2 = qq[l + 32], q3 = qq[l + 64], q4 = qq[l + 96];
        ql[l] = (q1 & 0xF) | ((q3 & 0xF) << 4);
        ql[l + 32] = (q2 & 0xF) | ((q4 & 0xF) << 4);
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

void dequantize_q6_k(const BlockQ6_K* x, int64_t n, float* y) {
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float d = f16_to_f32(x[b].d);
    const uint8_t* ql = x[b].ql;
    const uint8_t* qh = x[b].qh;
    const int8_t* sc = x[b].scales;
    for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8)
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
  }
}

}  // namespace

bool has_quantizer(DType t) {
  switch (t) {
    case DType::kQ8_0: case DType::kQ4_0: case DType::kQ5_0: case DType::kQ8_K: case DType::kQ4_K:
    case DType::kQ5_K: case DType::kQ6_K: case DType::kF32: case DType::kF16: case DType::kBF16:
      return true;
    default:
      return false;
  }
}

bool quantize_row(DType t, const float* x, int64_t n, void* out) {
  switch (t) {
    case DType::kQ8_0: quantize_q8_0(x, n, static_cast<BlockQ8_0*>(out)); return true;
    case DType::kQ4_0: quantize_q4_0(x, n, static_cast<BlockQ4_0*>(out)); return true;
    case DType::kQ5_0: quantize_q5_0(x, n, static_cast<BlockQ5_0*>(out)); return true;
    case DType::kQ8_K: quantize_q8_k(x, n, static_cast<BlockQ8_K*>(out)); return true;
    case DType::kQ4_K: quantize_q4_k(x, n, static_cast<BlockQ4_K*>(out)); return true;
    case DType::kQ5_K: quantize_q5_k(x, n, static_cast<BlockQ5_K*>(out)); return true;
    case DType::kQ6_K: quantize_q6_k(x, n, static_cast<BlockQ6_K*>(out)); return true;
    case DType::kF32: std::memcpy(out, x, n * sizeof(float)); return true;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(out)[i] = f32_to_f16(x[i]);
      return true;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(out)[i] = f32_to_bf16(x[i]);
      return true;
    default: return false;
  }
}

bool dequantize_row(DType t, const void* in, int64_t n, float* y) {
  switch (t) {
    case DType::kQ8_0: dequantize_q8_0(static_cast<const BlockQ8_0*>(in), n, y); return true;
    case DType::kQ4_0: dequantize_q4_0(static_cast<const BlockQ4_0*>(in), n, y); return true;
    case DType::kQ5_0: dequantize_q5_0(static_cast<const BlockQ5_0*>(in), n, y); return true;
    case DType::kQ8_K: dequantize_q8_k(static_cast<const BlockQ8_K*>(in), n, y); return true;
    case DType::kQ4_K: dequantize_q4_k(static_cast<const BlockQ4_K*>(in), n, y); return true;
    case DType::kQ5_K: dequantize_q5_k(static_cast<const BlockQ5_K*>(in), n, y); return true;
    case DType::kQ6_K: dequantize_q6_k(static_cast<const BlockQ6_K*>(in), n, y); return true;
    case DType::kF32: std::memcpy(y, in, n * sizeof(float)); return true;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, static_cast<const uint8_t*>(in) + 2 * i, 2);
        y[i] = f16_to_f32(h);
      }
      return true;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, static_cast<const uint8_t*>(in) + 2 * i, 2);
        y[i] = bf16_to_f32(h);
      }
      return true;
    default: return false;
  }
}

}  // namespace moeinfer
