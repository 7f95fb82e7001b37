#include "runtime/kv_cache.h"

#include <algorithm>
#include <cstddef>

namespace moeinfer {

KvCache::KvCache(int64_t n_layers, int64_t context, int64_t k_dim, int64_t v_dim, int64_t window)
    : n_layers_(n_layers),
      context_(context),
      slots_(window > 0 ? std::min(window, context) : context),
      k_dim_(k_dim),
      v_dim_(v_dim),
      k_(static_cast<size_t>(n_layers * slots_ * k_dim)),
      v_(static_cast<size_t>(n_layers * slots_ * v_dim)) {}

}  // namespace moeinfer
