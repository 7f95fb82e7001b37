#include "model/model_stats.h"

#include <algorithm>

namespace moeinfer {

namespace {
uint64_t ffn_bytes(const FfnWeights& f) { return f.w1.nbytes + f.w2.nbytes + f.w3.nbytes; }
uint64_t ffn_params(const FfnWeights& f) {
  return static_cast<uint64_t>(f.w1.numel() + f.w2.numel() + f.w3.numel());
}
}  // namespace

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
  int64_t k_dim, v_dim;
  kv_cache_dims(c, /*mla_absorbed=*/true, &k_dim, &v_dim);
  s.kv_bytes_per_token = static_cast<uint64_t>(c.n_layers) * (k_dim + v_dim) * sizeof(float);
  if (c.mla) {
    kv_cache_dims(c, /*mla_absorbed=*/false, &k_dim, &v_dim);
    s.kv_bytes_per_token_naive = static_cast<uint64_t>(c.n_layers) * (k_dim + v_dim) * sizeof(float);
  }
  s.kv_max_tokens = c.attn.sliding_window > 0 ? std::min(c.attn.sliding_window, c.context_length) : c.context_length;
  // Start from every tensor in the file (MTP layers and unused tensors included: they are mapped,
  // not read), then remove what one token does not touch.
  s.active_params_per_token = s.n_params;
  s.weight_bytes_per_token = total_bytes;
  if (!c.tied_embeddings && w.tok_embd.valid()) {
    s.active_params_per_token -= static_cast<uint64_t>(w.tok_embd.numel() - w.tok_embd.cols());
    s.weight_bytes_per_token -= w.tok_embd.nbytes - w.tok_embd.row_bytes();
  }
  for (int64_t l = 0; l < c.n_layers; ++l) {
    if (!c.layer_is_moe(l)) continue;
    const std::vector<FfnWeights>& ex = w.layers[l].moe.experts;
    // The routed experts a token does not use: all but top-k (sizes are equal across experts).
    for (size_t e = static_cast<size_t>(c.moe->n_experts_per_tok); e < ex.size(); ++e) {
      s.active_params_per_token -= ffn_params(ex[e]);
      s.weight_bytes_per_token -= ffn_bytes(ex[e]);
    }
  }
  return s;
}

}  // namespace moeinfer
