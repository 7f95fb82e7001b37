#include "runtime/kv_cache.h"

#include <cstddef>

namespace moeinfer {

KvCache::KvCache(int64_t n_layers, int64_t capacity, int64_t kv_dim)
    : n_layers_(n_layers), capacity_(capacity), kv_dim_(kv_dim),
      k_(static_cast<size_t>(n_layers * capacity * kv_dim)), v_(static_cast<size_t>(n_layers * capacity * kv_dim)) {}

}  // namespace moeinfer
