#include "model/model_stats.h"

#include <algorithm>

namespace moeinfer {

ModelStats compute_stats(const Model& m) {
  ModelStats s;
  const ModelConfig& c = m.config();
  const ModelWeights& w = m.weights();
  uint64_t total_bytes = 0;
  for (const TensorView& t : m.tensors().tensors()) {
    s.n_params += static_cast<uint64_t>(t.numel());
    s.bytes_by_dtype[dtype_name(t.type)] += t.nbytes;
    s.params_by_dtype[dtype_name(t.type)] += static_cast<uint64_t>(t.numel());
    total_bytes += t.nbytes;
  }
  s.kv_bytes_per_token = 2ull * c.n_layers * c.attn.n_kv_heads * c.attn.head_dim * sizeof(float);
  s.kv_max_tokens = c.attn.sliding_window > 0 ? std::min(c.attn.sliding_window, c.context_length) : c.context_length;
  s.active_params_per_token = s.n_params;
  s.weight_bytes_per_token = total_bytes;
  if (!c.tied_embeddings && w.tok_embd.valid()) {
    s.active_params_per_token -= static_cast<uint64_t>(w.tok_embd.numel() - w.tok_embd.cols());
    s.weight_bytes_per_token -= w.tok_embd.nbytes - w.tok_embd.row_bytes();
  }
  return s;
}

}  // namespace moeinfer
