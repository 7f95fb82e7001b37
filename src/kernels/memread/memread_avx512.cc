#include <immintrin.h>

#include "kernels/memread/memread.h"

namespace moeinfer {

namespace {
// Horizontal sum (GCC 12's _mm512_reduce_add_ps and extract intrinsics trip -Wmaybe-uninitialized).
inline float hsum512(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  float s0 = 0.0f, s1 = 0.0f;
  for (int i = 0; i < 16; i += 2) {
    s0 += t[i];
    s1 += t[i + 1];
  }
  return s0 + s1;
}
}  // namespace

namespace {
// kPrefetch: touch the lines one page ahead, as the decode kernels do (the hardware prefetchers
// stop at 4 KiB pages): the probe then measures what a well-fed stream gets, not a plain loop.
template <bool kPrefetch>
float read_all(const float* p, size_t n) {
  __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
  for (size_t i = 0; i < n; i += 64) {
    if constexpr (kPrefetch)
      for (int l = 0; l < 4; ++l) _mm_prefetch(reinterpret_cast<const char*>(p + i) + 4096 + 64 * l, _MM_HINT_T0);
    a = _mm512_add_ps(a, _mm512_load_ps(p + i));
    b = _mm512_add_ps(b, _mm512_load_ps(p + i + 16));
    c = _mm512_add_ps(c, _mm512_load_ps(p + i + 32));
    d = _mm512_add_ps(d, _mm512_load_ps(p + i + 48));
  }
  return hsum512(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}
}  // namespace

float memread_avx512(const float* p, size_t n) { return read_all<false>(p, n); }
float memread_prefetch_avx512(const float* p, size_t n) { return read_all<true>(p, n); }

}  // namespace moeinfer
