// F32 key/value cache for standard (MHA/GQA) attention.
// Layout: k[layer][pos][n_kv_heads * head_dim] and the same for v; positions [0, capacity).
#pragma once
#include <cstdint>
#include <vector>

namespace moeinfer {

class KvCache {
 public:
  KvCache(int64_t n_layers, int64_t capacity, int64_t kv_dim);

  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return kv_dim_; }
  float* k(int64_t layer, int64_t pos) { return k_.data() + (layer * capacity_ + pos) * kv_dim_; }
  float* v(int64_t layer, int64_t pos) { return v_.data() + (layer * capacity_ + pos) * kv_dim_; }
  const float* k(int64_t layer, int64_t pos) const { return k_.data() + (layer * capacity_ + pos) * kv_dim_; }
  const float* v(int64_t layer, int64_t pos) const { return v_.data() + (layer * capacity_ + pos) * kv_dim_; }
  uint64_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  int64_t n_layers_, capacity_, kv_dim_;
  std::vector<float> k_, v_;
};

}  // namespace moeinfer
