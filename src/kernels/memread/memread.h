// Streaming read kernel for the built-in bandwidth test: returns the sum of n floats (the sum only
// keeps the compiler from removing the loads). n is a multiple of 64; p is 64-byte aligned.
#pragma once
#include <cstddef>

#include "base/cpu_features.h"

namespace moeinfer {

using MemreadFn = float (*)(const float* p, size_t n);
float memread_ref(const float* p, size_t n);
float memread_avx2(const float* p, size_t n);
float memread_avx512(const float* p, size_t n);
// The same sums with a software prefetch one page ahead (what the decode kernels do).
float memread_prefetch_avx2(const float* p, size_t n);
float memread_prefetch_avx512(const float* p, size_t n);
// `prefetch` picks the prefetching form where the level has one (the scalar level has not).
MemreadFn select_memread(Isa isa, bool prefetch = false);

}  // namespace moeinfer
