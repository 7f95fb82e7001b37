#include "model/model_stats.h"

#include <algorithm>

namespace moeinfer {

namespace {
uint64_t ffn_bytes(const FfnWeights& f) {
  return f.w1.valid() ? f.w1.nbytes + f.w2.nbytes + f.w3.nbytes : 0;
}
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
  if (!c.tied_embeddings && w.tok_embd.valid())
    s.active_params_per_token -= static_cast<uint64_t>(w.tok_embd.numel() - w.tok_embd.cols());
  for (int64_t l = 0; l < c.n_layers; ++l) {
    if (!c.layer_is_moe(l)) continue;
    const std::vector<FfnWeights>& ex = w.layers[l].moe.experts;
    // The routed experts a token does not use: all but top-k (sizes are equal across experts).
    for (size_t e = static_cast<size_t>(c.moe->n_experts_per_tok); e < ex.size(); ++e)
      s.active_params_per_token -= ffn_params(ex[e]);
  }
  // Bytes one decode step reads: every bound weight once (MoE layers: top-k experts), the output
  // head, and not the embedding table (one row is read) unless it doubles as the output head.
  auto b = [](const TensorView& t) { return t.valid() ? t.nbytes : 0; };
  uint64_t bytes = b(w.output) + b(w.output_norm);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    bytes += b(lw.attn_norm) + b(lw.ffn_norm) + b(lw.wq) + b(lw.wk) + b(lw.wv) + b(lw.wo);
    const MlaWeights& m = lw.mla;
    bytes += b(m.wq) + b(m.wq_a) + b(m.q_norm) + b(m.wq_b) + b(m.wkv_a) + b(m.kv_norm) + b(m.wkv_b) + b(m.wo);
    bytes += b(lw.w1) + b(lw.w2) + b(lw.w3);
    if (c.layer_is_moe(l)) {
      const MoeWeights& e = lw.moe;
      bytes += b(e.gate) + b(e.gate_bias) + ffn_bytes(e.shared);
      if (!e.experts.empty()) bytes += ffn_bytes(e.experts[0]) * static_cast<uint64_t>(c.moe->n_experts_per_tok);
    }
  }
  s.weight_bytes_per_token = bytes;
  (void)total_bytes;
  return s;
}

}  // namespace moeinfer
