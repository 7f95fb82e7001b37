// Whether the AMX kernel may run: once per process, ask Linux for the AMX tile state and check the
// kernel's results on a fixed problem against the VNNI kernel; either failing leaves the AVX-512
// VNNI kernels in place with one line on stderr.
#include <sys/syscall.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "kernels/qmatmul/qmatmul.h"
#include "tensor/quantize.h"
#include "tensor/repack.h"

namespace moeinfer {

namespace {

constexpr int kArchReqXcompPerm = 0x1023;  // arch_prctl: request an XSAVE feature (Linux 5.16+)
constexpr int kXfeatureXtiledata = 18;

bool request_permission() {
#if defined(__linux__) && defined(SYS_arch_prctl)
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

// The AMX kernel against the VNNI kernel on 40 tokens x 24 rows x 128 columns (every tile path:
// full tiles, the token tail and the 8-row tail).
bool self_check(DType t) {
  const int64_t rows = 24, cols = 128, n_tok = 40;
  uint64_t rb = 0, xr = 0;
  dtype_row_bytes(t, cols, &rb);
  dtype_row_bytes(DType::kQ8_0, cols, &xr);
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> f(cols);
  std::vector<uint8_t> plain(rb * rows), w(rb * rows), xq(xr * n_tok);
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : f) v = nd(rng);
    quantize_row(t, f.data(), cols, plain.data() + r * rb);
  }
  repack_rows8(t, plain.data(), rows, cols, w.data());
  for (int64_t k = 0; k < n_tok; ++k) {
    for (float& v : f) v = nd(rng);
    quantize_row(DType::kQ8_0, f.data(), cols, xq.data() + k * xr);
  }
  std::vector<float> want(rows * n_tok), got(rows * n_tok, NAN);
  QMatmulArgs a{w.data(), rb, cols, xq.data(), xr, n_tok, want.data(), rows};
  qmatmul_r8_avx512(t)(a, 0, rows);
  a.y = got.data();
  qmatmul_r8_amx_unchecked(t)(a, 0, rows);
  for (size_t i = 0; i < want.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= 1e-4f * (std::fabs(want[i]) + 1.0f))) return false;
  return true;
}

bool check_once() {
  if (!isa_supported(Isa::kAmx) || !cpu_features().avx512vnni) return false;
  if (!request_permission()) {
    std::fprintf(stderr, "moeinfer: note: the OS refused the AMX tile state (arch_prctl); using AVX-512 VNNI\n");
    return false;
  }
  if (!self_check(DType::kQ8_0) || !self_check(DType::kQ4_0)) {
    std::fprintf(stderr, "moeinfer: warning: the AMX kernel's self-check failed; using AVX-512 VNNI\n");
    return false;
  }
  return true;
}

}  // namespace

bool amx_ready() {
  static const bool ready = check_once();
  return ready;
}

QMatmulFn qmatmul_r8_amx(DType t) { return amx_ready() ? qmatmul_r8_amx_unchecked(t) : nullptr; }

}  // namespace moeinfer
