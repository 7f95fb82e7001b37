// AMX tile programming, as a policy the AMX kernel is written against (qmatmul_amx_impl.h):
//   HwTiles (qmatmul_amx.cc)  the real instructions (_tile_loadd, _tile_dpbssd, ...);
//   EmulatedTiles (here)      a scalar model of the same instructions (Intel SDM, AMX-TILE and
//                             AMX-INT8), so the kernel's data layout and loop logic run and are
//                             tested on CPUs without AMX. It also checks what the hardware would
//                             fault on (tile shapes past 16 rows x 64 bytes, mismatched shapes).
// Tile numbers are template arguments because the instructions take them as immediates.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace moeinfer {

// The 64-byte LDTILECFG operand (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of tiles 0-7 (8-15 reserved, zero)
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64, "LDTILECFG operand is 64 bytes");

struct EmulatedTiles {
  struct State {
    TileConfig cfg;
    bool configured = false;
    alignas(64) uint8_t t[8][16 * 64];
  };
  static State& s() {
    thread_local State st;
    return st;
  }
  static void check(bool ok) {
    if (!ok) std::abort();  // where the hardware raises #UD/#GP
  }
  static void config(const TileConfig* c) {
    for (int i = 0; i < 8; ++i) check(c->rows[i] <= 16 && c->colsb[i] <= 64);
    s().cfg = *c;
    s().configured = true;
    std::memset(s().t, 0, sizeof s().t);
  }
  template <int T>
  static void zero() {
    check(s().configured);
    std::memset(s().t[T], 0, sizeof s().t[T]);
  }
  template <int T>
  static void load(const void* p, int64_t stride) {
    State& st = s();
    check(st.configured);
    std::memset(st.t[T], 0, sizeof st.t[T]);
    for (int r = 0; r < st.cfg.rows[T]; ++r)
      std::memcpy(st.t[T] + 64 * r, static_cast<const uint8_t*>(p) + r * stride, st.cfg.colsb[T]);
  }
  template <int T>
  static void store(void* p, int64_t stride) {
    State& st = s();
    check(st.configured);
    for (int r = 0; r < st.cfg.rows[T]; ++r)
      std::memcpy(static_cast<uint8_t*>(p) + r * stride, st.t[T] + 64 * r, st.cfg.colsb[T]);
  }
  // TDPBSSD: C[m][n] += Σ_{k<K/4} Σ_{i<4} A[m][4k+i]·B[k][4n+i], all int8 signed, int32 sums.
  template <int C, int A, int B>
  static void dp_ss() {
    State& st = s();
    const TileConfig& c = st.cfg;
    check(st.configured && c.rows[C] == c.rows[A] && c.colsb[C] == c.colsb[B] && c.rows[B] * 4 == c.colsb[A]);
    for (int m = 0; m < c.rows[C]; ++m)
      for (int n = 0; n < c.colsb[C] / 4; ++n) {
        int32_t acc;
        std::memcpy(&acc, st.t[C] + 64 * m + 4 * n, 4);
        for (int k = 0; k < c.rows[B]; ++k)
          for (int i = 0; i < 4; ++i)
            acc += static_cast<int32_t>(static_cast<int8_t>(st.t[A][64 * m + 4 * k + i])) *
                   static_cast<int8_t>(st.t[B][64 * k + 4 * n + i]);
        std::memcpy(st.t[C] + 64 * m + 4 * n, &acc, 4);
      }
  }
  static void release() { s().configured = false; }
};

}  // namespace moeinfer
