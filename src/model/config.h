// ModelConfig: every hyperparameter of a supported architecture, as data. Loaders (GGUF, and later
// Hugging Face config.json) fill it and call validate(); blocks read it and never guess a feature
// from a size. Optional features are optional sub-structs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moeinfer {

// How RoPE pairs the dimensions of a head (see kernels/ops.h).
enum class RopePairing {
  kInterleaved,  // (x[2i], x[2i+1]): GGUF llama files (llama.cpp's converter permutes HF q/k rows)
  kNeox,         // (x[i], x[i+d/2]): "rotate_half", HF Llama/Mistral checkpoints as stored
};

// Frequency scaling applied to the base RoPE frequencies (see model/rope.h).
enum class RopeScaling {
  kNone,
  kLinear,  // every frequency divided by `factor` (positions interpolated)
  kLlama3,  // Llama 3.1: long wavelengths divided by `factor`, short kept, a smooth ramp between
};

struct RopeConfig {
  int64_t n_rot = 0;         // rotated dims per head (GGUF llama.rope.dimension_count, default head_dim)
  double theta = 10000.0;    // base frequency (llama.rope.freq_base / rope_theta, default 10000)
  RopePairing pairing = RopePairing::kInterleaved;
  RopeScaling scaling = RopeScaling::kNone;
  double factor = 1.0;             // kLinear, kLlama3
  double low_freq_factor = 1.0;    // kLlama3
  double high_freq_factor = 4.0;   // kLlama3
  int64_t original_context = 0;    // kLlama3: original_max_position_embeddings
};

struct AttentionConfig {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;     // GQA: each KV head serves n_heads / n_kv_heads query heads
  int64_t head_dim = 0;       // per-head size of q, k, v
  int64_t sliding_window = 0; // 0 = full causal attention
};

struct ModelConfig {
  std::string arch;           // registry name, e.g. "llama"
  std::string name;           // general.name, informational
  int64_t n_vocab = 0;
  int64_t dim = 0;            // embedding length (hidden size)
  int64_t n_layers = 0;
  int64_t ffn_dim = 0;        // SwiGLU hidden size
  int64_t context_length = 0; // trained context; the KV cache is sized from it unless overridden
  float norm_eps = 1e-5f;     // RMSNorm epsilon
  AttentionConfig attn;
  RopeConfig rope;
  bool tied_embeddings = false;  // output head reuses token_embd
  std::vector<int64_t> eos_ids;   // from config.json (HF); the tokenizer's own EOS is used too
  int64_t bos_id = -1;
  std::string torch_dtype;        // informational (HF config.json)

  // Throws Error(source, field, ...) when a value is out of range or inconsistent.
  void validate(const std::string& source) const;
};

}  // namespace moeinfer
