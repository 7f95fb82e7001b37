#include "tensor/repack.h"

#include <cstring>

#include "tensor/quant_blocks.h"

namespace moeinfer {

namespace {

// Bytes of one plain block of t, and elements per block.
uint64_t block_bytes(DType t) {
  switch (t) {
    case DType::kQ8_0: return sizeof(BlockQ8_0);
    case DType::kQ4_0: return sizeof(BlockQ4_0);
    case DType::kQ4_K: return sizeof(BlockQ4_K);
    default: return sizeof(BlockQ6_K);
  }
}
int64_t block_elems(DType t) { return t == DType::kQ4_K || t == DType::kQ6_K ? 256 : 32; }

// Moves one plain Q8_0/Q4_0 block (row j of a group) into/out of its group block.
// to_group: plain -> group.
void move_block_32(DType t, uint8_t* plain, uint8_t* group, int j, bool to_group) {
  constexpr uint64_t chunk_bytes = 8;  // bytes of a row per chunk
  const int n_chunks = t == DType::kQ8_0 ? 4 : 2;
  const uint8_t flip = t == DType::kQ8_0 ? 0x80 : 0x00;
  uint8_t* d = group + 2 * j;
  if (to_group) std::memcpy(d, plain, 2);
  else std::memcpy(plain, d, 2);
  for (int k = 0; k < n_chunks; ++k) {
    uint8_t* g = group + 16 + 64 * k + 8 * j;
    uint8_t* p = plain + 2 + chunk_bytes * k;
    for (int i = 0; i < 8; ++i) {
      if (to_group) g[i] = p[i] ^ flip;
      else p[i] = g[i] ^ flip;
    }
  }
}

// Q4_K's 12 scale bytes <-> 6-bit scales and mins of its 8 sub-blocks (ggml's get_scale_min_k4
// and its inverse; the 96 bits are all used, so the mapping is one to one).
void q4k_unpack_scales(const uint8_t* s, uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    m[j] = s[j + 4] & 63;
    sc[j + 4] = static_cast<uint8_t>((s[j + 8] & 0x0F) | ((s[j] >> 6) << 4));
    m[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
}
void q4k_pack_scales(const uint8_t sc[8], const uint8_t m[8], uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
  }
}

// 4-bit element e (< 256) of a plain Q4_K block's quants, and its inverse.
inline uint8_t q4k_get(const uint8_t* qs, int e) {
  const int p = e / 64, w = e % 64;
  return w < 32 ? qs[32 * p + w] & 0x0F : qs[32 * p + w - 32] >> 4;
}
inline void q4k_set(uint8_t* qs, int e, uint8_t v) {
  const int p = e / 64, w = e % 64;
  uint8_t& byte = qs[32 * p + (w < 32 ? w : w - 32)];
  byte = w < 32 ? static_cast<uint8_t>((byte & 0xF0) | v) : static_cast<uint8_t>((byte & 0x0F) | (v << 4));
}

// One plain Q4_K block (row r of a group) into/out of its group block (layout in repack.h).
void move_block_q4k(uint8_t* plain, uint8_t* group, int r, bool to_group) {
  BlockQ4_K b{};
  if (to_group) std::memcpy(&b, plain, sizeof b);
  uint8_t sc[8], m[8];
  if (to_group) {
    std::memcpy(group + 2 * r, &b.d, 2);
    std::memcpy(group + 16 + 2 * r, &b.dmin, 2);
    q4k_unpack_scales(b.scales, sc, m);
  } else {
    std::memcpy(&b.d, group + 2 * r, 2);
    std::memcpy(&b.dmin, group + 16 + 2 * r, 2);
  }
  uint8_t* sc_lo = group + 32;
  uint8_t* m_lo = group + 64;
  uint8_t* sc_hi = group + 96;
  uint8_t* m_hi = group + 112;
  for (int j = 0; j < 8; ++j) {
    const int idx = 8 * j + r, k = idx % 32, half = idx / 32, hk = idx % 16, hs = 2 * (idx / 16);
    if (to_group) {
      sc_lo[k] = static_cast<uint8_t>((sc_lo[k] & (half ? 0x0F : 0xF0)) | ((sc[j] & 0x0F) << (4 * half)));
      m_lo[k] = static_cast<uint8_t>((m_lo[k] & (half ? 0x0F : 0xF0)) | ((m[j] & 0x0F) << (4 * half)));
      sc_hi[hk] = static_cast<uint8_t>((sc_hi[hk] & ~(3 << hs)) | ((sc[j] >> 4) << hs));
      m_hi[hk] = static_cast<uint8_t>((m_hi[hk] & ~(3 << hs)) | ((m[j] >> 4) << hs));
    } else {
      sc[j] = static_cast<uint8_t>(((sc_lo[k] >> (4 * half)) & 0x0F) | (((sc_hi[hk] >> hs) & 3) << 4));
      m[j] = static_cast<uint8_t>(((m_lo[k] >> (4 * half)) & 0x0F) | (((m_hi[hk] >> hs) & 3) << 4));
    }
  }
  if (!to_group) q4k_pack_scales(sc, m, b.scales);
  for (int j = 0; j < 8; ++j)
    for (int c = 0; c < 2; ++c) {
      uint8_t* g = group + 128 + 64 * (2 * j + c) + 8 * r;
      for (int i = 0; i < 8; ++i) {
        const int e = 32 * j + 16 * c + i;
        if (to_group) g[i] = static_cast<uint8_t>(q4k_get(b.qs, e) | (q4k_get(b.qs, e + 8) << 4));
        else q4k_set(b.qs, e, g[i] & 0x0F), q4k_set(b.qs, e + 8, g[i] >> 4);
      }
    }
  if (!to_group) std::memcpy(plain, &b, sizeof b);
}

// 6-bit element e (< 256) of a plain Q6_K block (ggml's ql/qh split), and its inverse.
inline uint8_t q6k_get(const BlockQ6_K& b, int e) {
  const int h = e / 128, w = e % 128, l = w % 32, quarter = w / 32;
  const uint8_t ql = b.ql[64 * h + l + (quarter & 1) * 32];
  const uint8_t low = quarter < 2 ? ql & 0x0F : ql >> 4;
  return static_cast<uint8_t>(low | (((b.qh[32 * h + l] >> (2 * quarter)) & 3) << 4));
}
inline void q6k_set(BlockQ6_K& b, int e, uint8_t v) {
  const int h = e / 128, w = e % 128, l = w % 32, quarter = w / 32;
  uint8_t& ql = b.ql[64 * h + l + (quarter & 1) * 32];
  ql = quarter < 2 ? static_cast<uint8_t>((ql & 0xF0) | (v & 0x0F)) : static_cast<uint8_t>((ql & 0x0F) | ((v & 0x0F) << 4));
  uint8_t& qh = b.qh[32 * h + l];
  qh = static_cast<uint8_t>((qh & ~(3 << (2 * quarter))) | ((v >> 4) << (2 * quarter)));
}

// One plain Q6_K block (row r of a group) into/out of its group block (layout in repack.h).
void move_block_q6k(uint8_t* plain, uint8_t* group, int r, bool to_group) {
  BlockQ6_K b{};
  if (to_group) std::memcpy(&b, plain, sizeof b);
  if (to_group) std::memcpy(group + 2 * r, &b.d, 2);
  else std::memcpy(&b.d, group + 2 * r, 2);
  for (int k = 0; k < 16; ++k) {
    int8_t& sc = reinterpret_cast<int8_t*>(group + 16)[8 * k + r];
    if (to_group) sc = b.scales[k];
    else b.scales[k] = sc;
    uint8_t* nib = group + 144 + 96 * k;
    uint8_t* high = nib + 64;
    for (int half = 0; half < 2; ++half)
      for (int i = 0; i < 8; ++i) {
        const int e = 16 * k + 8 * half + i, pos = 64 * half + 8 * r + i;  // position in the 128
        const int byte = pos % 32, shift = pos < 32 ? 4 : pos < 64 ? 6 : pos < 96 ? 0 : 2;
        uint8_t& n = nib[8 * r + i];
        if (to_group) {
          const uint8_t v = q6k_get(b, e);
          n = half == 0 ? static_cast<uint8_t>((n & 0xF0) | (v & 0x0F)) : static_cast<uint8_t>((n & 0x0F) | ((v & 0x0F) << 4));
          high[byte] = static_cast<uint8_t>((high[byte] & ~(3 << shift)) | ((v >> 4) << shift));
        } else {
          const uint8_t low = half == 0 ? n & 0x0F : n >> 4;
          q6k_set(b, e, static_cast<uint8_t>(low | (((high[byte] >> shift) & 3) << 4)));
        }
      }
  }
  if (!to_group) std::memcpy(plain, &b, sizeof b);
}

void move_block(DType t, uint8_t* plain, uint8_t* group, int j, bool to_group) {
  if (t == DType::kQ4_K) move_block_q4k(plain, group, j, to_group);
  else if (t == DType::kQ6_K) move_block_q6k(plain, group, j, to_group);
  else move_block_32(t, plain, group, j, to_group);
}

}  // namespace

bool has_rows8_layout(DType t) {
  return t == DType::kQ8_0 || t == DType::kQ4_0 || t == DType::kQ4_K || t == DType::kQ6_K;
}

void repack_rows8(DType t, const uint8_t* src, int64_t n_rows, int64_t cols, uint8_t* dst) {
  const uint64_t bb = block_bytes(t);
  const int64_t nb = cols / block_elems(t);
  const uint64_t row_bytes = bb * static_cast<uint64_t>(nb);
  if (t == DType::kQ8_0 || t == DType::kQ4_0) {  // move_block_32 in 8-byte words (an expert cache repacks as it loads)
    const int n_chunks = t == DType::kQ8_0 ? 4 : 2;
    const uint64_t flip = t == DType::kQ8_0 ? 0x8080808080808080ull : 0;
    for (int64_t g = 0; g < n_rows / 8; ++g) {
      const uint8_t* s = src + static_cast<uint64_t>(g) * 8 * row_bytes;
      uint8_t* d = dst + static_cast<uint64_t>(g) * 8 * row_bytes;
      for (int64_t b = 0; b < nb; ++b) {
        uint8_t* grp = d + static_cast<uint64_t>(b) * 8 * bb;
        for (int j = 0; j < 8; ++j) {
          const uint8_t* p = s + static_cast<uint64_t>(j) * row_bytes + static_cast<uint64_t>(b) * bb;
          std::memcpy(grp + 2 * j, p, 2);
          for (int k = 0; k < n_chunks; ++k) {
            uint64_t v;
            std::memcpy(&v, p + 2 + 8 * k, 8);
            v ^= flip;
            std::memcpy(grp + 16 + 64 * k + 8 * j, &v, 8);
          }
        }
      }
    }
    return;
  }
  uint8_t tmp[sizeof(BlockQ6_K)];
  for (int64_t g = 0; g < n_rows / 8; ++g) {
    const uint8_t* s = src + static_cast<uint64_t>(g) * 8 * row_bytes;
    uint8_t* d = dst + static_cast<uint64_t>(g) * 8 * row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      std::memset(d + static_cast<uint64_t>(b) * 8 * bb, 0, 8 * bb);  // the Q4_K fields are or-ed in
      for (int j = 0; j < 8; ++j) {
        std::memcpy(tmp, s + static_cast<uint64_t>(j) * row_bytes + static_cast<uint64_t>(b) * bb, bb);
        move_block(t, tmp, d + static_cast<uint64_t>(b) * 8 * bb, j, true);
      }
    }
  }
}

void unpack_row_rows8(DType t, const uint8_t* data, int64_t row, int64_t cols, uint8_t* out) {
  const uint64_t bb = block_bytes(t);
  const int64_t nb = cols / block_elems(t);
  const uint64_t row_bytes = bb * static_cast<uint64_t>(nb);
  const uint8_t* group = data + static_cast<uint64_t>(row / 8) * 8 * row_bytes;
  for (int64_t b = 0; b < nb; ++b)
    move_block(t, out + static_cast<uint64_t>(b) * bb, const_cast<uint8_t*>(group + static_cast<uint64_t>(b) * 8 * bb),
               static_cast<int>(row % 8), false);
}

}  // namespace moeinfer
