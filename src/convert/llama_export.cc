#include "convert/llama_export.h"

#include <cmath>
#include <cstdio>

namespace moeinfer {

namespace {

std::string fmt(const char* pattern, int64_t layer) {
  char buf[160];
  std::snprintf(buf, sizeof buf, pattern, static_cast<int>(layer));
  return buf;
}

// Bijective base-26 spelling of k: 0 -> "a", 25 -> "z", 26 -> "aa", ...
std::string letters(int64_t k) {
  std::string s;
  ++k;
  while (k > 0) {
    --k;
    s.insert(s.begin(), static_cast<char>('a' + k % 26));
    k /= 26;
  }
  return s;
}

}  // namespace

std::vector<LlamaTensorSpec> llama_tensor_specs(const ModelConfig& c) {
  const int64_t d = c.dim, hd = c.attn.head_dim;
  const int64_t q = c.attn.n_heads * hd, kv = c.attn.n_kv_heads * hd, f = c.ffn_dim;
  using K = LlamaTensorSpec;
  std::vector<LlamaTensorSpec> s;
  s.push_back({"token_embd.weight", "model.embed_tokens.weight", {d, c.n_vocab}, K::kEmbedding, 0});
  for (int64_t i = 0; i < c.n_layers; ++i) {
    s.push_back({fmt("blk.%d.attn_norm.weight", i), fmt("model.layers.%d.input_layernorm.weight", i), {d}, K::kNorm, 0});
    s.push_back({fmt("blk.%d.attn_q.weight", i), fmt("model.layers.%d.self_attn.q_proj.weight", i), {d, q}, K::kMatrix, hd});
    s.push_back({fmt("blk.%d.attn_k.weight", i), fmt("model.layers.%d.self_attn.k_proj.weight", i), {d, kv}, K::kMatrix, hd});
    s.push_back({fmt("blk.%d.attn_v.weight", i), fmt("model.layers.%d.self_attn.v_proj.weight", i), {d, kv}, K::kMatrix, 0});
    s.push_back({fmt("blk.%d.attn_output.weight", i), fmt("model.layers.%d.self_attn.o_proj.weight", i), {q, d}, K::kMatrix, 0});
    s.push_back({fmt("blk.%d.ffn_norm.weight", i), fmt("model.layers.%d.post_attention_layernorm.weight", i), {d}, K::kNorm, 0});
    s.push_back({fmt("blk.%d.ffn_gate.weight", i), fmt("model.layers.%d.mlp.gate_proj.weight", i), {d, f}, K::kMatrix, 0});
    s.push_back({fmt("blk.%d.ffn_down.weight", i), fmt("model.layers.%d.mlp.down_proj.weight", i), {f, d}, K::kMatrix, 0});
    s.push_back({fmt("blk.%d.ffn_up.weight", i), fmt("model.layers.%d.mlp.up_proj.weight", i), {d, f}, K::kMatrix, 0});
  }
  s.push_back({"output_norm.weight", "model.norm.weight", {d}, K::kNorm, 0});
  if (!c.tied_embeddings) s.push_back({"output.weight", "lm_head.weight", {d, c.n_vocab}, K::kMatrix, 0});
  return s;
}

std::vector<float> llama3_rope_factors(const RopeConfig& r) {
  const double pi = 3.14159265358979323846;
  const double low_wavelen = r.original_context / r.low_freq_factor;
  const double high_wavelen = r.original_context / r.high_freq_factor;
  std::vector<float> out(static_cast<size_t>(r.n_rot / 2));
  for (int64_t i = 0; i < r.n_rot / 2; ++i) {
    // the base frequency in F32, as the references compute it
    const float freq = 1.0f / static_cast<float>(std::pow(r.theta, static_cast<double>(2 * i) / r.n_rot));
    const double wavelen = 2.0 * pi / freq;
    double factor = 1.0;
    if (wavelen < high_wavelen) {
      factor = 1.0;
    } else if (wavelen > low_wavelen) {
      factor = r.factor;
    } else {
      const double smooth = (r.original_context / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      factor = 1.0 / ((1.0 - smooth) / r.factor + smooth);
    }
    out[static_cast<size_t>(i)] = static_cast<float>(factor);
  }
  return out;
}

void add_llama_gguf_metadata(GgufStreamWriter* w, const ModelConfig& c, int64_t context_length) {
  const std::string a = "llama.";
  auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  w->add_string("general.architecture", "llama");
  w->add_string("general.name", c.name.empty() ? std::string("llama") : c.name);
  w->add_uint32(a + "vocab_size", u32(c.n_vocab));
  w->add_uint32(a + "context_length", u32(context_length));
  w->add_uint32(a + "embedding_length", u32(c.dim));
  w->add_uint32(a + "block_count", u32(c.n_layers));
  w->add_uint32(a + "feed_forward_length", u32(c.ffn_dim));
  w->add_uint32(a + "rope.dimension_count", u32(c.rope.n_rot));
  w->add_uint32(a + "attention.head_count", u32(c.attn.n_heads));
  w->add_uint32(a + "attention.head_count_kv", u32(c.attn.n_kv_heads));
  w->add_float32(a + "attention.layer_norm_rms_epsilon", c.norm_eps);
  w->add_float32(a + "rope.freq_base", static_cast<float>(c.rope.theta));
  if (c.attn.head_dim * c.attn.n_heads != c.dim) {
    w->add_uint32(a + "attention.key_length", u32(c.attn.head_dim));
    w->add_uint32(a + "attention.value_length", u32(c.attn.head_dim));
  }
  if (c.rope.scaling == RopeScaling::kLinear) {
    w->add_string(a + "rope.scaling.type", "linear");
    w->add_float32(a + "rope.scaling.factor", static_cast<float>(c.rope.factor));
  }
}

void add_placeholder_spm_vocab(GgufStreamWriter* w, int64_t n_vocab) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(static_cast<size_t>(n_vocab));
  auto push = [&](std::string t, int32_t type) {
    if (static_cast<int64_t>(tokens.size()) >= n_vocab) return;
    scores.push_back(type == 1 ? -static_cast<float>(tokens.size()) : 0.0f);
    tokens.push_back(std::move(t));
    types.push_back(type);
  };
  push("<unk>", 2);  // llama_token_type: 1 normal, 2 unknown, 3 control, 6 byte
  push("<s>", 3);
  push("</s>", 3);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    push(buf, 6);
  }
  for (int64_t k = 0; static_cast<int64_t>(tokens.size()) < n_vocab; ++k)
    push((k % 2 == 0 ? "\xE2\x96\x81" : "") + letters(k / 2), 1);  // U+2581 marks a word start
  w->add_string("tokenizer.ggml.model", "llama");
  w->add_strings("tokenizer.ggml.tokens", tokens);
  w->add_float32s("tokenizer.ggml.scores", scores);
  w->add_int32s("tokenizer.ggml.token_type", types);
  w->add_uint32("tokenizer.ggml.unknown_token_id", 0);
  if (n_vocab > 1) w->add_uint32("tokenizer.ggml.bos_token_id", 1);
  if (n_vocab > 2) w->add_uint32("tokenizer.ggml.eos_token_id", 2);
}

}  // namespace moeinfer
