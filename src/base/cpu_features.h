// Run-time CPU feature detection (CPUID + the OS's XCR0 state) and the instruction-set level
// the kernels are dispatched to. Detection happens once; kernels never test features themselves.
#pragma once
#include <string>

namespace moeinfer {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kAmx = 3 };

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512vnni = false, avx512bf16 = false, avx512fp16 = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
};

const CpuFeatures& cpu_features();

// The best level this CPU (and OS) supports.
Isa best_isa();
const char* isa_name(Isa isa);
// Parses "scalar|avx2|avx512|amx"; throws UsageError on other text.
Isa parse_isa(const std::string& text, const std::string& option);
bool isa_supported(Isa isa);

}  // namespace moeinfer
