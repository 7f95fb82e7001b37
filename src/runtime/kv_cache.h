// F32 key/value cache for standard (MHA/GQA) attention.
// Layout: k[layer][slot][n_kv_heads * head_dim] and the same for v. Position p lives in slot
// p % slots. Without a sliding window slots = the context length (every position has its own
// slot); with a window W the cache is rolling and holds exactly min(W, context) entries, so memory
// does not grow past the window.
#pragma once
#include <cstdint>
#include <vector>

namespace moeinfer {

class KvCache {
 public:
  // context: the most positions a session may reach; window: 0 = full attention.
  KvCache(int64_t n_layers, int64_t context, int64_t kv_dim, int64_t window);

  int64_t context() const { return context_; }
  int64_t slots() const { return slots_; }
  int64_t kv_dim() const { return kv_dim_; }
  float* k(int64_t layer, int64_t pos) { return k_.data() + (layer * slots_ + pos % slots_) * kv_dim_; }
  float* v(int64_t layer, int64_t pos) { return v_.data() + (layer * slots_ + pos % slots_) * kv_dim_; }
  const float* k(int64_t layer, int64_t pos) const { return k_.data() + (layer * slots_ + pos % slots_) * kv_dim_; }
  const float* v(int64_t layer, int64_t pos) const { return v_.data() + (layer * slots_ + pos % slots_) * kv_dim_; }
  // Bytes allocated for K and V together.
  uint64_t bytes() const { return (k_.capacity() + v_.capacity()) * sizeof(float); }

 private:
  int64_t n_layers_, context_, slots_, kv_dim_;
  std::vector<float> k_, v_;
};

}  // namespace moeinfer
