// Quantized block formats, bit-compatible with ggml (ggml-common.h block structs and
// ggml-quants.c reference (de)quantizers). Every block covers `QK` consecutive elements of one row;
// d / dmin are IEEE F16 unless noted. Element values:
//  Q8_0 (32, 34 B): x = d · q, q int8.
//  Q4_0 (32, 18 B): x = d · (q - 8), q 4-bit; byte j holds element j (low nibble) and j+16 (high).
//  Q5_0 (32, 22 B): x = d · (q - 16), q 5-bit: low 4 bits as in Q4_0, bit 4 of element j is bit j
//                   of the little-endian u32 qh.
//  Q8_K (256, 292 B, activations): x = d · q, d F32, q int8; bsums[i] = sum of q over elements
//                   16i .. 16i+15.
//  Q4_K (256, 144 B): 8 sub-blocks of 32 with 6-bit scale sc and 6-bit min m packed in
//                   scales[12] (get_scale_min_k4); x = d·sc·q - dmin·m, q 4-bit. Sub-blocks 2k and
//                   2k+1 share bytes qs[32k .. 32k+31]: low nibbles then high nibbles.
//  Q5_K (256, 176 B): as Q4_K with a 5th bit from qh[32]: element l of sub-block 2k takes bit 2k of
//                   qh[l], of sub-block 2k+1 bit 2k+1.
//  Q6_K (256, 210 B): 16 sub-blocks of 16 with int8 scales; x = d · sc · (q - 32), q 6-bit: low 4
//                   bits in ql[128], high 2 bits in qh[64] (see dequantize_q6_K for the order).
#pragma once
#include <cstdint>

namespace moeinfer {

constexpr int kQK4 = 32;   // Q4_0, Q5_0, Q8_0
constexpr int kQKK = 256;  // k-quants

struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block size");

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block size");

struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block size");

struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block size");

struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block size");

struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block size");

struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block size");

// 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace moeinfer
