#include "kernels/memread/memread.h"

namespace moeinfer {

MemreadFn select_memread(Isa isa) {
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512)) return memread_avx512;
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return memread_avx2;
  return memread_ref;
}

}  // namespace moeinfer
