// LLaMA-family transformers (Llama 1/2/3, Mistral 7B): RMSNorm, GQA attention with RoPE (optional
// sliding window), SwiGLU FFN.
//  - GGUF (llama.cpp's converter): keys `llama.*`, tensors `blk.N.attn_q.weight`, ...; q/k rows are
//    permuted for interleaved RoPE pairs.
//  - Hugging Face (config.json + safetensors): tensors `model.layers.N.self_attn.q_proj.weight`, ...;
//    q/k rows are in HF's layout, for NeoX ("rotate_half") pairs.
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/error.h"
#include "model/arch_registry.h"
#include "model/count_check.h"

namespace moeinfer {

namespace {

// The one tensor-name table: engine slot -> GGUF name, HF name ("%d" = layer index).
enum Slot { kEmbed, kOutNorm, kOutput, kAttnNorm, kWq, kWk, kWv, kWo, kFfnNorm, kW1, kW2, kW3 };
struct Names {
  const char* gguf;
  const char* hf;
};
constexpr Names kNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
    {"blk.%d.attn_norm.weight", "model.layers.%d.input_layernorm.weight"},
    {"blk.%d.attn_q.weight", "model.layers.%d.self_attn.q_proj.weight"},
    {"blk.%d.attn_k.weight", "model.layers.%d.self_attn.k_proj.weight"},
    {"blk.%d.attn_v.weight", "model.layers.%d.self_attn.v_proj.weight"},
    {"blk.%d.attn_output.weight", "model.layers.%d.self_attn.o_proj.weight"},
    {"blk.%d.ffn_norm.weight", "model.layers.%d.post_attention_layernorm.weight"},
    {"blk.%d.ffn_gate.weight", "model.layers.%d.mlp.gate_proj.weight"},
    {"blk.%d.ffn_down.weight", "model.layers.%d.mlp.down_proj.weight"},
    {"blk.%d.ffn_up.weight", "model.layers.%d.mlp.up_proj.weight"},
};

std::string name_of(WeightNaming n, Slot s, int64_t layer = 0) {
  const char* pattern = n == WeightNaming::kGguf ? kNames[s].gguf : kNames[s].hf;
  char buf[160];
  std::snprintf(buf, sizeof buf, pattern, static_cast<int>(layer));
  return buf;
}

}  // namespace

void llama_read_gguf(const GgufFile& g, ModelConfig* c) {
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
  if (g.has(a + "attention.value_length") &&
      g.get_uint(a + "attention.value_length") != static_cast<uint64_t>(c->attn.head_dim))
    throw Error(g.path(), a + "attention.value_length", "expected the same value as attention.key_length");
  c->norm_eps = static_cast<float>(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  c->rope.n_rot = static_cast<int64_t>(g.get_uint(a + "rope.dimension_count", c->attn.head_dim));
  c->rope.theta = g.get_float(a + "rope.freq_base", 10000.0);
  c->rope.pairing = RopePairing::kInterleaved;
  const std::string scaling = g.get_string(a + "rope.scaling.type", "none");
  if (scaling == "linear") {
    c->rope.scaling = RopeScaling::kLinear;
    c->rope.factor = g.get_float(a + "rope.scaling.factor", 1.0);
  } else if (scaling != "none") {
    throw Error(g.path(), a + "rope.scaling.type", "expected none or linear, got '" + scaling + "'");
  }
  if (const TensorView* f = g.find_tensor("rope_freqs.weight")) {
    // llama.cpp's Llama 3.1 scaling: n_rot/2 F32 divisors of the base frequencies
    const std::string field = "tensor 'rope_freqs.weight'";
    if (f->type != DType::kF32 || f->n_dims != 1 || f->ne[0] != c->rope.n_rot / 2)
      throw Error(g.path(), field, "expected " + std::to_string(c->rope.n_rot / 2) + " F32 values (rope.dimension_count / 2)");
    c->rope.freq_factors.resize(static_cast<size_t>(f->ne[0]));
    std::memcpy(c->rope.freq_factors.data(), f->data, c->rope.freq_factors.size() * sizeof(float));
    for (float v : c->rope.freq_factors)
      if (!(v > 0.0f) || !std::isfinite(v)) throw Error(g.path(), field, "expected positive finite factors");
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

void llama_read_hf(const JsonConfig& j, ModelConfig* c) {
  c->arch = j.get_string("model_type", "llama") == "mistral" ? "mistral" : "llama";
  c->name = j.get_string("_name_or_path", "");
  c->n_vocab = j.get_int("vocab_size");
  c->dim = j.get_int("hidden_size");
  c->ffn_dim = j.get_int("intermediate_size");
  c->n_layers = j.get_int("num_hidden_layers");
  c->attn.n_heads = j.get_int("num_attention_heads");
  c->attn.n_kv_heads = j.get_int("num_key_value_heads", c->attn.n_heads);
  if (c->attn.n_heads <= 0) throw Error(j.path(), "num_attention_heads", "expected a positive value");
  c->attn.head_dim = j.get_int("head_dim", c->dim / c->attn.n_heads);
  c->norm_eps = static_cast<float>(j.get_number("rms_norm_eps", 1e-6));
  c->context_length = j.get_int("max_position_embeddings", 2048);
  c->tied_embeddings = j.get_bool("tie_word_embeddings", false);
  c->attn.sliding_window = j.get_int("sliding_window", 0);
  c->torch_dtype = j.get_string("torch_dtype", "");
  c->bos_id = j.get_int_list("bos_token_id").empty() ? -1 : j.get_int_list("bos_token_id")[0];
  c->eos_ids = j.get_int_list("eos_token_id");
  const std::string act = j.get_string("hidden_act", "silu");
  if (act != "silu") throw Error(j.path(), "hidden_act", "expected \"silu\" (SwiGLU), got '" + act + "'");
  if (j.get_bool("attention_bias", false)) throw Error(j.path(), "attention_bias", "biases are not supported");
  if (j.get_bool("mlp_bias", false)) throw Error(j.path(), "mlp_bias", "biases are not supported");

  c->rope.n_rot = c->attn.head_dim;
  c->rope.theta = j.get_number("rope_theta", 10000.0);
  c->rope.pairing = RopePairing::kNeox;  // HF checkpoints store q/k rows for rotate_half
  if (auto rs = j.get_object("rope_scaling")) {
    const std::string key = rs->has("rope_type") ? "rope_type" : "type";
    const std::string type = rs->get_string(key);
    if (type == "default") {
      c->rope.scaling = RopeScaling::kNone;
    } else if (type == "linear") {
      c->rope.scaling = RopeScaling::kLinear;
      c->rope.factor = rs->get_number("factor");
    } else if (type == "llama3") {
      c->rope.scaling = RopeScaling::kLlama3;
      c->rope.factor = rs->get_number("factor");
      c->rope.low_freq_factor = rs->get_number("low_freq_factor");
      c->rope.high_freq_factor = rs->get_number("high_freq_factor");
      c->rope.original_context = rs->get_int("original_max_position_embeddings");
    } else {
      throw Error(j.path(), "rope_scaling." + key,
                  "'" + type + "' is not supported (supported: default, linear, llama3)");
    }
  }
}

void llama_bind(const TensorSet& t, WeightNaming n, const ModelConfig& c, const BindOptions& o, ModelWeights* w) {
  const bool u = o.require_usable;
  const int64_t d = c.dim, q = c.attn.n_heads * c.attn.head_dim, kv = c.attn.n_kv_heads * c.attn.head_dim;
  w->tok_embd = bind_tensor(t, name_of(n, kEmbed), {d, c.n_vocab}, u);
  w->output_norm = bind_tensor(t, name_of(n, kOutNorm), {d}, u);
  w->output = c.tied_embeddings ? w->tok_embd : bind_tensor(t, name_of(n, kOutput), {d, c.n_vocab}, u);
  check_layer_count(t, c.n_layers, name_of(n, kAttnNorm, c.n_layers - 1),
                    n == WeightNaming::kGguf ? t.path() : t.path() + "/config.json",
                    n == WeightNaming::kGguf ? c.arch + ".block_count" : "num_hidden_layers");
  w->layers.resize(c.n_layers);
  for (int64_t i = 0; i < c.n_layers; ++i) {
    LayerWeights& l = w->layers[i];
    l.attn_norm = bind_tensor(t, name_of(n, kAttnNorm, i), {d}, u);
    l.wq = bind_tensor(t, name_of(n, kWq, i), {d, q}, u);
    l.wk = bind_tensor(t, name_of(n, kWk, i), {d, kv}, u);
    l.wv = bind_tensor(t, name_of(n, kWv, i), {d, kv}, u);
    l.wo = bind_tensor(t, name_of(n, kWo, i), {q, d}, u);
    l.ffn_norm = bind_tensor(t, name_of(n, kFfnNorm, i), {d}, u);
    l.w1 = bind_tensor(t, name_of(n, kW1, i), {d, c.ffn_dim}, u);
    l.w2 = bind_tensor(t, name_of(n, kW2, i), {c.ffn_dim, d}, u);
    l.w3 = bind_tensor(t, name_of(n, kW3, i), {d, c.ffn_dim}, u);
  }
}

}  // namespace moeinfer
