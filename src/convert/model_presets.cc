#include "convert/model_presets.h"

namespace moeinfer {

namespace {

ModelConfig llama_base(const char* name, int64_t vocab, int64_t dim, int64_t ffn, int64_t layers, int64_t heads,
                       int64_t kv_heads, int64_t ctx, double theta) {
  ModelConfig c;
  c.arch = "llama";
  c.name = name;
  c.n_vocab = vocab;
  c.dim = dim;
  c.ffn_dim = ffn;
  c.n_layers = layers;
  c.attn.n_heads = heads;
  c.attn.n_kv_heads = kv_heads;
  c.attn.head_dim = dim / heads;
  c.context_length = ctx;
  c.norm_eps = 1e-5f;
  c.rope.n_rot = c.attn.head_dim;
  c.rope.theta = theta;
  c.rope.pairing = RopePairing::kNeox;
  c.bos_id = 1;
  c.eos_ids = {2};
  return c;
}

void llama3_scaling(ModelConfig* c, double factor) {
  c->rope.scaling = RopeScaling::kLlama3;
  c->rope.factor = factor;
  c->rope.low_freq_factor = 1.0;
  c->rope.high_freq_factor = 4.0;
  c->rope.original_context = 8192;
  c->bos_id = 128000;
  c->eos_ids = {128001};
}

// --- Llama / Mistral ------------------------------------------------------------------------
// Rows of 256 and 768 so that every k-quant block type really occurs in a tiny file.
ModelConfig llama_tiny() { return llama_base("moeinfer-tiny-llama", 512, 256, 768, 2, 8, 4, 256, 10000.0); }

ModelConfig llama2_7b() { return llama_base("llama-2-7b", 32000, 4096, 11008, 32, 32, 32, 4096, 10000.0); }

ModelConfig llama32_1b() {  // meta-llama/Llama-3.2-1B: tied embeddings, 131072 context
  ModelConfig c = llama_base("llama-3.2-1b", 128256, 2048, 8192, 16, 32, 8, 131072, 500000.0);
  llama3_scaling(&c, 32.0);
  c.tied_embeddings = true;
  return c;
}

ModelConfig llama31_8b() {  // meta-llama/Llama-3.1-8B
  ModelConfig c = llama_base("llama-3.1-8b", 128256, 4096, 14336, 32, 32, 8, 131072, 500000.0);
  llama3_scaling(&c, 8.0);
  return c;
}

ModelConfig mistral_tiny() {
  ModelConfig c = llama_base("moeinfer-tiny-mistral", 512, 256, 768, 2, 8, 4, 1024, 10000.0);
  c.arch = "mistral";
  c.attn.sliding_window = 64;
  return c;
}

ModelConfig mistral_7b() {  // mistralai/Mistral-7B-v0.3 (no sliding window, 32768-token vocabulary)
  ModelConfig c = llama_base("mistral-7b-v0.3", 32768, 4096, 14336, 32, 32, 8, 32768, 1000000.0);
  c.arch = "mistral";
  return c;
}

ModelConfig mistral_7b_v01() {  // mistralai/Mistral-7B-v0.1: sliding window 4096
  ModelConfig c = llama_base("mistral-7b-v0.1", 32000, 4096, 14336, 32, 32, 8, 32768, 10000.0);
  c.arch = "mistral";
  c.attn.sliding_window = 4096;
  return c;
}

// --- DeepSeek ---------------------------------------------------------------------------------
struct DsShape {
  const char* name;
  int64_t vocab, dim, ffn, moe_ffn, layers, dense_layers, mtp_layers, heads;
  int64_t q_lora, kv_lora, nope, rope, v_head;
  int64_t experts, shared, top_k, n_group, topk_group;
  int64_t ctx, yarn_original;
  double yarn_factor;
};

ModelConfig deepseek(const DsShape& s, bool v3) {
  ModelConfig c;
  c.arch = v3 ? "deepseek_v3" : "deepseek_v2";
  c.name = s.name;
  c.n_vocab = s.vocab;
  c.dim = s.dim;
  c.ffn_dim = s.ffn;
  c.n_layers = s.layers;
  c.n_mtp_layers = s.mtp_layers;
  c.attn.n_heads = c.attn.n_kv_heads = s.heads;
  c.attn.head_dim = s.nope + s.rope;
  c.context_length = s.ctx;
  c.norm_eps = 1e-6f;
  MlaConfig m;
  m.q_lora_rank = s.q_lora;
  m.kv_lora_rank = s.kv_lora;
  m.qk_nope_dim = s.nope;
  m.qk_rope_dim = s.rope;
  m.v_head_dim = s.v_head;
  c.mla = m;
  MoeConfig e;
  e.n_experts = s.experts;
  e.n_experts_per_tok = s.top_k;
  e.expert_ffn_dim = s.moe_ffn;
  e.n_shared_experts = s.shared;
  e.n_group = s.n_group;
  e.topk_group = s.topk_group;
  e.first_dense_layers = s.dense_layers;
  e.scoring = v3 ? MoeScoring::kSigmoid : MoeScoring::kSoftmax;
  e.norm_topk_prob = v3;
  e.routed_scaling_factor = v3 ? 2.5f : 1.0f;
  c.moe = e;
  c.rope.n_rot = s.rope;
  c.rope.theta = 10000.0;
  c.rope.pairing = RopePairing::kInterleaved;
  c.rope.scaling = RopeScaling::kYarn;
  c.rope.factor = s.yarn_factor;
  c.rope.original_context = s.yarn_original;
  c.rope.beta_fast = 32.0;
  c.rope.beta_slow = 1.0;
  c.rope.mscale = v3 ? 1.0 : 0.707;
  c.rope.mscale_all_dim = v3 ? 1.0 : 0.707;
  c.bos_id = v3 ? 0 : 100000;
  c.eos_ids = {v3 ? 1 : 100001};
  return c;
}

// Every matrix dimension of the scaled V3 shapes is a multiple of 128 except, as in the real
// model, kv_a (kv_lora + rope): FP8 128x128 blocks are mostly full.
//                        name       vocab   dim   ffn   moe  L  dense mtp heads q_lora kv nope rope v  E   sh top grp tg  ctx  orig factor
constexpr DsShape kV3Tiny{"moeinfer-tiny-deepseek-v3", 512, 256, 512, 128, 3, 1, 1, 4, 256, 128, 32, 32, 32, 16, 1, 4, 4, 2, 128, 32, 4.0};
constexpr DsShape kV3Scaled{"deepseek-v3-tiny", 32768, 1024, 2816, 256, 8, 1, 0, 8, 384, 256, 128, 64, 128, 64, 1, 8, 8, 4, 16384, 4096, 4.0};
constexpr DsShape kV3Small{"deepseek-v3-small", 129280, 2048, 6144, 512, 12, 1, 0, 16, 768, 512, 128, 64, 128, 64, 1, 8, 8, 4, 16384, 4096, 4.0};
constexpr DsShape kV3Full{"deepseek-v3", 129280, 7168, 18432, 2048, 61, 3, 1, 128, 1536, 512, 128, 64, 128, 256, 1, 8, 8, 4, 163840, 4096, 40.0};
constexpr DsShape kV2Tiny{"moeinfer-tiny-deepseek-v2", 512, 256, 512, 128, 3, 1, 0, 4, 0, 128, 32, 32, 32, 16, 2, 4, 4, 2, 128, 32, 4.0};
constexpr DsShape kV2Lite{"deepseek-v2-lite", 102400, 2048, 10944, 1408, 27, 1, 0, 16, 0, 512, 128, 64, 128, 64, 2, 6, 1, 1, 163840, 4096, 40.0};

ModelConfig v3_tiny() { return deepseek(kV3Tiny, true); }
ModelConfig v3_scaled() { return deepseek(kV3Scaled, true); }
ModelConfig v3_small() { return deepseek(kV3Small, true); }
ModelConfig v3_full() { return deepseek(kV3Full, true); }
ModelConfig v2_tiny() { return deepseek(kV2Tiny, false); }
ModelConfig v2_lite() { return deepseek(kV2Lite, false); }

}  // namespace

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> presets = {
      {"llama", "tiny", "test model: dim 256, ffn 768, 2 layers, 8/4 heads, vocab 512 (~1.8M params)", llama_tiny},
      {"llama", "llama-3.2-1b", "Llama 3.2 1B: dim 2048, 16 layers, 32/8 heads, vocab 128256, tied (1.24B)", llama32_1b},
      {"llama", "llama-3.1-8b", "Llama 3.1 8B: dim 4096, ffn 14336, 32 layers, 32/8 heads, vocab 128256 (8.0B)", llama31_8b},
      {"llama", "llama-2-7b", "Llama 2 7B: dim 4096, ffn 11008, 32 layers, 32 heads, vocab 32000 (6.7B)", llama2_7b},
      {"mistral", "tiny", "test model: as llama tiny with a sliding window of 64", mistral_tiny},
      {"mistral", "mistral-7b", "Mistral 7B v0.3: dim 4096, ffn 14336, 32 layers, 32/8 heads, vocab 32768 (7.2B)", mistral_7b},
      {"mistral", "mistral-7b-v0.1", "Mistral 7B v0.1: as v0.3 with vocab 32000 and a 4096 sliding window (7.2B)", mistral_7b_v01},
      {"deepseek_v3", "tiny", "test model: MLA, 16 experts (top-4, 4 groups), sigmoid+bias, 1 MTP layer, dims of 128", v3_tiny},
      {"deepseek_v3", "deepseek-v3-tiny", "scaled DeepSeek-V3: dim 1024, 8 layers, 64 experts top-8 in 8 groups (~0.45B)", v3_scaled},
      {"deepseek_v3", "deepseek-v3-small", "scaled DeepSeek-V3: dim 2048, 12 layers, 64 experts top-8 in 8 groups (~2.9B)", v3_small},
      {"deepseek_v3", "deepseek-v3", "DeepSeek-V3 671B: 61 layers, 256 experts top-8, 1 MTP layer", v3_full},
      {"deepseek_v2", "tiny", "test model: MLA without q_lora, 16 experts (top-4), 2 shared, softmax", v2_tiny},
      {"deepseek_v2", "deepseek-v2-lite", "DeepSeek-V2-Lite 15.7B: 27 layers, 64 experts top-6 + 2 shared", v2_lite},
  };
  return presets;
}

const ModelPreset* find_model_preset(const std::string& arch, const std::string& name) {
  for (const ModelPreset& p : model_presets())
    if (arch == p.arch && name == p.name) return &p;
  return nullptr;
}

std::string model_preset_names(const std::string& arch) {
  std::string s;
  for (const ModelPreset& p : model_presets())
    if (arch == p.arch) s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

}  // namespace moeinfer
