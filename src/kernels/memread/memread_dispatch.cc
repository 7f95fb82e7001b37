#include "kernels/memread/memread.h"

namespace moeinfer {

MemreadFn select_memread(Isa isa, bool prefetch) {
  if ((isa == Isa::kAvx512 || isa == Isa::kAmx) && isa_supported(Isa::kAvx512))
    return prefetch ? memread_prefetch_avx512 : memread_avx512;
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return prefetch ? memread_prefetch_avx2 : memread_avx2;
  return memread_ref;
}

}  // namespace moeinfer
