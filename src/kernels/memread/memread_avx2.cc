#include <immintrin.h>

#include "kernels/memread/memread.h"

namespace moeinfer {

namespace {
// kPrefetch: touch the lines one page ahead, as the decode kernels do.
template <bool kPrefetch>
float read_all(const float* p, size_t n) {
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  for (size_t i = 0; i < n; i += 32) {
    if constexpr (kPrefetch)
      for (int l = 0; l < 2; ++l) _mm_prefetch(reinterpret_cast<const char*>(p + i) + 4096 + 64 * l, _MM_HINT_T0);
    a = _mm256_add_ps(a, _mm256_load_ps(p + i));
    b = _mm256_add_ps(b, _mm256_load_ps(p + i + 8));
    c = _mm256_add_ps(c, _mm256_load_ps(p + i + 16));
    d = _mm256_add_ps(d, _mm256_load_ps(p + i + 24));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
}  // namespace

float memread_avx2(const float* p, size_t n) { return read_all<false>(p, n); }
float memread_prefetch_avx2(const float* p, size_t n) { return read_all<true>(p, n); }

}  // namespace moeinfer
