// LLaMA as written by llama.cpp's converters (general.architecture = "llama"): metadata keys
// `llama.*` and tensor names `token_embd`, `blk.N.attn_q`, ... (gguf.md "Standardized key-value
// pairs" and llama.cpp's tensor name table). q/k rows are stored for interleaved RoPE pairs.
#include "base/error.h"
#include "model/arch_registry.h"

namespace moeinfer {

void llama_read_config(const GgufFile& g, ModelConfig* c) {
  const std::string a = "llama.";
  c->arch = "llama";
  c->name = g.get_string("general.name", "");
  c->context_length = static_cast<int64_t>(g.get_uint(a + "context_length"));
  c->dim = static_cast<int64_t>(g.get_uint(a + "embedding_length"));
  c->n_layers = static_cast<int64_t>(g.get_uint(a + "block_count"));
  c->ffn_dim = static_cast<int64_t>(g.get_uint(a + "feed_forward_length"));
  c->attn.n_heads = static_cast<int64_t>(g.get_uint(a + "attention.head_count"));
  c->attn.n_kv_heads = static_cast<int64_t>(g.get_uint(a + "attention.head_count_kv", c->attn.n_heads));
  if (c->attn.n_heads <= 0) throw Error(g.path(), a + "attention.head_count", "expected a positive value");
  c->attn.head_dim = static_cast<int64_t>(g.get_uint(a + "attention.key_length", c->dim / c->attn.n_heads));
  if (g.has(a + "attention.value_length") && g.get_uint(a + "attention.value_length") != (uint64_t)c->attn.head_dim)
    throw Error(g.path(), a + "attention.value_length", "expected the same value as attention.key_length");
  c->norm_eps = static_cast<float>(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  c->rope.n_rot = static_cast<int64_t>(g.get_uint(a + "rope.dimension_count", c->attn.head_dim));
  c->rope.theta = g.get_float(a + "rope.freq_base", 10000.0);
  c->rope.pairing = RopePairing::kInterleaved;
  const std::string scaling = g.get_string(a + "rope.scaling.type", "none");
  if (scaling == "linear") {
    double factor = g.get_float(a + "rope.scaling.factor", 1.0);
    if (!(factor > 0.0)) throw Error(g.path(), a + "rope.scaling.factor", "expected a positive value");
    c->rope.freq_scale = 1.0 / factor;
  } else if (scaling != "none") {
    throw Error(g.path(), a + "rope.scaling.type", "expected none or linear, got '" + scaling + "'");
  }
  if (g.has(a + "vocab_size")) {
    c->n_vocab = static_cast<int64_t>(g.get_uint(a + "vocab_size"));
  } else if (const TensorView* e = g.find_tensor("token_embd.weight")) {
    c->n_vocab = e->ne[1];
  } else {
    throw Error(g.path(), "tensor 'token_embd.weight'", "required tensor is missing");
  }
  c->tied_embeddings = g.find_tensor("output.weight") == nullptr;
}

void llama_bind_weights(const GgufFile& g, const ModelConfig& c, bool u, ModelWeights* w) {
  const int64_t d = c.dim, q = c.attn.n_heads * c.attn.head_dim, kv = c.attn.n_kv_heads * c.attn.head_dim;
  w->tok_embd = bind_tensor(g, "token_embd.weight", {d, c.n_vocab}, u);
  w->output_norm = bind_tensor(g, "output_norm.weight", {d}, u);
  w->output = c.tied_embeddings ? w->tok_embd : bind_tensor(g, "output.weight", {d, c.n_vocab}, u);
  w->layers.resize(c.n_layers);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = w->layers[i];
    l.attn_norm = bind_tensor(g, p + "attn_norm.weight", {d}, u);
    l.wq = bind_tensor(g, p + "attn_q.weight", {d, q}, u);
    l.wk = bind_tensor(g, p + "attn_k.weight", {d, kv}, u);
    l.wv = bind_tensor(g, p + "attn_v.weight", {d, kv}, u);
    l.wo = bind_tensor(g, p + "attn_output.weight", {q, d}, u);
    l.ffn_norm = bind_tensor(g, p + "ffn_norm.weight", {d}, u);
    l.w1 = bind_tensor(g, p + "ffn_gate.weight", {d, c.ffn_dim}, u);
    l.w2 = bind_tensor(g, p + "ffn_down.weight", {c.ffn_dim, d}, u);
    l.w3 = bind_tensor(g, p + "ffn_up.weight", {d, c.ffn_dim}, u);
  }
}

}  // namespace moeinfer
