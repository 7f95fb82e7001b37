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
  kYarn,    // YaRN (DeepSeek): frequencies blended between f and f/factor by a ramp over dims
};

struct RopeConfig {
  int64_t n_rot = 0;         // rotated dims per head (GGUF llama.rope.dimension_count, default head_dim)
  double theta = 10000.0;    // base frequency (llama.rope.freq_base / rope_theta, default 10000)
  RopePairing pairing = RopePairing::kInterleaved;
  RopeScaling scaling = RopeScaling::kNone;
  double factor = 1.0;             // kLinear, kLlama3
  double low_freq_factor = 1.0;    // kLlama3
  double high_freq_factor = 4.0;   // kLlama3
  int64_t original_context = 0;    // kLlama3, kYarn: original_max_position_embeddings
  double beta_fast = 32.0, beta_slow = 1.0;   // kYarn ramp bounds (in rotations)
  double mscale = 1.0, mscale_all_dim = 0.0;  // kYarn magnitude corrections (HF rope_scaling keys)
  // Per-frequency divisors from a GGUF `rope_freqs.weight` (llama.cpp's form of Llama 3.1 scaling):
  // frequency i is the base frequency / freq_factors[i]. Empty: none.
  std::vector<float> freq_factors;
};

// Multi-head Latent Attention (DeepSeek-V2/V3). Per token: q = wq_b(rmsnorm(wq_a(x))) or wq(x),
// split per head into [nope | rope]; wkv_a(x) = [latent c (kv_lora_rank) | k_rope (qk_rope_dim)];
// wkv_b(rmsnorm(c)) gives per head [k_nope (qk_nope_dim) | v (v_head_dim)].
struct MlaConfig {
  int64_t q_lora_rank = 0;  // 0: a plain q projection
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_dim = 0, qk_rope_dim = 0, v_head_dim = 0;
};

enum class MoeScoring { kSoftmax, kSigmoid };

// Mixture of experts (DeepSeek routing, model.py Gate): scores = sigmoid|softmax(W_g·x);
// selection on scores + bias (when the router has one), limited to the topk_group best of n_group
// groups; weights = unbiased scores of the chosen experts, normalized when norm_topk_prob, times
// routed_scaling_factor. Shared experts are added unweighted.
struct MoeConfig {
  int64_t n_experts = 0;          // routed experts
  int64_t n_experts_per_tok = 0;  // top-k
  int64_t expert_ffn_dim = 0;     // moe_intermediate_size
  int64_t n_shared_experts = 0;   // one SwiGLU of n_shared × expert_ffn_dim
  int64_t n_group = 1, topk_group = 1;
  int64_t first_dense_layers = 0; // layers [0, first_dense_layers) use the dense FFN
  MoeScoring scoring = MoeScoring::kSoftmax;
  bool norm_topk_prob = false;
  float routed_scaling_factor = 1.0f;
};

// Block-scaled FP8 weights (DeepSeek-V3 quantization_config).
struct Fp8Config {
  int64_t block_rows = 128, block_cols = 128;  // weight_block_size
};

struct AttentionConfig {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;     // GQA: each KV head serves n_heads / n_kv_heads query heads
  int64_t head_dim = 0;       // per-head size of q, k, v
  int64_t sliding_window = 0; // 0 = full causal attention
  double softmax_scale = 0.0;  // 0 = 1/sqrt(head_dim); MLA: (nope + rope)^-0.5 · mscale²
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
  std::optional<MlaConfig> mla;   // present: attention is MLA (attn.* holds n_heads only)
  std::optional<MoeConfig> moe;   // present: layers >= first_dense_layers are MoE
  std::optional<Fp8Config> fp8;   // present: F8_E4M3 weights carry weight_scale_inv grids

  int64_t n_mtp_layers = 0;       // num_nextn_predict_layers: MTP blocks stored after the main layers

  bool layer_is_moe(int64_t layer) const { return moe && layer >= moe->first_dense_layers; }
  bool tied_embeddings = false;  // output head reuses token_embd
  std::vector<int64_t> eos_ids;   // from config.json (HF); the tokenizer's own EOS is used too
  int64_t bos_id = -1;
  std::string torch_dtype;        // informational (HF config.json)

  // Throws Error(source, field, ...) when a value is out of range or inconsistent.
  void validate(const std::string& source) const;
};

}  // namespace moeinfer
