// F32 key/value cache. Layout: k[layer][slot][k_dim], v[layer][slot][v_dim]. What a row holds
// depends on the attention block: standard attention stores n_kv_heads·head_dim keys and values;
// absorbed MLA stores the normed latent (kv_lora_rank) as "k" and the rotated k_rope as "v";
// naive MLA stores the expanded per-head keys and values. Position p lives in slot
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
  KvCache(int64_t n_layers, int64_t context, int64_t k_dim, int64_t v_dim, int64_t window);

  int64_t context() const { return context_; }
  int64_t slots() const { return slots_; }
  int64_t k_dim() const { return k_dim_; }
  int64_t v_dim() const { return v_dim_; }
  float* k(int64_t layer, int64_t pos) { return k_.data() + (layer * slots_ + pos % slots_) * k_dim_; }
  float* v(int64_t layer, int64_t pos) { return v_.data() + (layer * slots_ + pos % slots_) * v_dim_; }
  const float* k(int64_t layer, int64_t pos) const { return k_.data() + (layer * slots_ + pos % slots_) * k_dim_; }
  const float* v(int64_t layer, int64_t pos) const { return v_.data() + (layer * slots_ + pos % slots_) * v_dim_; }
  // Bytes allocated for K and V together.
  uint64_t bytes() const { return (k_.capacity() + v_.capacity()) * sizeof(float); }

 private:
  int64_t n_layers_, context_, slots_, k_dim_, v_dim_;
  std::vector<float> k_, v_;
};

}  // namespace moeinfer
