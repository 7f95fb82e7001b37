// DeepSeek-V3 / V2 (DeepseekV3ForCausalLM, DeepseekV2ForCausalLM) from Hugging Face directories:
// MLA attention, MoE FFN (dense for the first first_k_dense_replace layers), YaRN RoPE on the
// interleaved rope part, RMSNorm everywhere, optional FP8 block-scaled weights. Names and key
// semantics follow DeepSeek's inference/model.py and convert.py (see docs/architecture.md).
// The MTP layer model.layers.{num_hidden_layers} is not bound here.
#include <cmath>

#include "base/error.h"
#include "model/arch_registry.h"
#include "model/count_check.h"
#include "model/rope.h"

namespace moeinfer {

void deepseek_read_hf(const JsonConfig& j, ModelConfig* c) {
  const std::string type = j.get_string("model_type", "deepseek_v3");
  c->arch = type == "deepseek_v2" ? "deepseek_v2" : "deepseek_v3";
  c->name = j.get_string("_name_or_path", "");
  c->n_vocab = j.get_int("vocab_size");
  c->dim = j.get_int("hidden_size");
  c->ffn_dim = j.get_int("intermediate_size");
  c->n_layers = j.get_int("num_hidden_layers");
  c->n_mtp_layers = j.get_int("num_nextn_predict_layers", 0);
  if (c->n_mtp_layers < 0) throw Error(j.path(), "num_nextn_predict_layers", "expected >= 0");
  c->attn.n_heads = j.get_int("num_attention_heads");
  c->attn.n_kv_heads = c->attn.n_heads;  // MLA: every head has its own decompressed K/V
  c->norm_eps = static_cast<float>(j.get_number("rms_norm_eps", 1e-6));
  c->context_length = j.get_int("max_position_embeddings", 4096);
  c->tied_embeddings = j.get_bool("tie_word_embeddings", false);
  c->torch_dtype = j.get_string("torch_dtype", "");
  c->bos_id = j.get_int_list("bos_token_id").empty() ? -1 : j.get_int_list("bos_token_id")[0];
  c->eos_ids = j.get_int_list("eos_token_id");
  const std::string act = j.get_string("hidden_act", "silu");
  if (act != "silu") throw Error(j.path(), "hidden_act", "expected \"silu\" (SwiGLU), got '" + act + "'");
  if (j.get_bool("attention_bias", false)) throw Error(j.path(), "attention_bias", "biases are not supported");

  MlaConfig m;
  m.q_lora_rank = j.get_int("q_lora_rank", 0);
  m.kv_lora_rank = j.get_int("kv_lora_rank");
  m.qk_nope_dim = j.get_int("qk_nope_head_dim");
  m.qk_rope_dim = j.get_int("qk_rope_head_dim");
  m.v_head_dim = j.get_int("v_head_dim");
  c->mla = m;
  c->attn.head_dim = m.qk_nope_dim + m.qk_rope_dim;

  c->rope.n_rot = m.qk_rope_dim;
  c->rope.theta = j.get_number("rope_theta", 10000.0);
  c->rope.pairing = RopePairing::kInterleaved;  // model.py's complex rope; checkpoints are not permuted
  double mscale_all_dim = 0.0;
  if (auto rs = j.get_object("rope_scaling")) {
    const std::string key = rs->has("type") ? "type" : "rope_type";
    const std::string st = rs->get_string(key);
    if (st == "yarn") {
      c->rope.scaling = RopeScaling::kYarn;
      c->rope.factor = rs->get_number("factor");
      c->rope.original_context = rs->get_int("original_max_position_embeddings");
      c->rope.beta_fast = rs->get_number("beta_fast", 32.0);
      c->rope.beta_slow = rs->get_number("beta_slow", 1.0);
      c->rope.mscale = rs->get_number("mscale", 1.0);
      c->rope.mscale_all_dim = rs->get_number("mscale_all_dim", 0.0);
      mscale_all_dim = c->rope.mscale_all_dim;
    } else if (st != "default") {
      throw Error(j.path(), "rope_scaling." + key, "'" + st + "' is not supported for DeepSeek (supported: yarn)");
    }
  }
  // softmax_scale = qk_head_dim^-0.5 · m², m = 0.1 · mscale_all_dim · ln(factor) + 1 (YaRN only)
  const double m_all = c->rope.scaling == RopeScaling::kYarn ? yarn_mscale(c->rope.factor, mscale_all_dim) : 1.0;
  c->attn.softmax_scale = 1.0 / std::sqrt(static_cast<double>(c->attn.head_dim)) * m_all * m_all;

  if (j.has("n_routed_experts")) {
    MoeConfig e;
    e.n_experts = j.get_int("n_routed_experts");
    e.n_experts_per_tok = j.get_int("num_experts_per_tok");
    e.expert_ffn_dim = j.get_int("moe_intermediate_size");
    e.n_shared_experts = j.get_int("n_shared_experts", 0);
    e.first_dense_layers = j.get_int("first_k_dense_replace", 0);
    if (j.get_int("moe_layer_freq", 1) != 1)
      throw Error(j.path(), "moe_layer_freq", "expected 1 (every layer after the dense ones is MoE)");
    const std::string topk = j.get_string("topk_method", c->arch == "deepseek_v3" ? "noaux_tc" : "greedy");
    if (topk == "greedy") {
      e.n_group = e.topk_group = 1;
    } else if (topk == "group_limited_greedy" || topk == "noaux_tc") {
      e.n_group = j.get_int("n_group");
      e.topk_group = j.get_int("topk_group");
    } else {
      throw Error(j.path(), "topk_method",
                  "expected greedy, group_limited_greedy or noaux_tc, got '" + topk + "'");
    }
    const std::string scoring = j.get_string("scoring_func", c->arch == "deepseek_v3" ? "sigmoid" : "softmax");
    if (scoring == "sigmoid") e.scoring = MoeScoring::kSigmoid;
    else if (scoring == "softmax") e.scoring = MoeScoring::kSoftmax;
    else throw Error(j.path(), "scoring_func", "expected sigmoid or softmax, got '" + scoring + "'");
    e.norm_topk_prob = j.get_bool("norm_topk_prob", false);
    e.routed_scaling_factor = static_cast<float>(j.get_number("routed_scaling_factor", 1.0));
    c->moe = e;
  }

  if (auto q = j.get_object("quantization_config")) {
    const std::string method = q->get_string("quant_method");
    if (method != "fp8") throw Error(j.path(), "quantization_config.quant_method", "expected \"fp8\", got '" + method + "'");
    const std::string fmt = q->get_string("fmt", "e4m3");
    if (fmt != "e4m3") throw Error(j.path(), "quantization_config.fmt", "expected \"e4m3\", got '" + fmt + "'");
    Fp8Config f;
    if (q->has("weight_block_size")) {
      const auto& b = q->json()["weight_block_size"];
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer() ||
          b[0].get<int64_t>() <= 0 || b[1].get<int64_t>() <= 0)
        throw Error(j.path(), "quantization_config.weight_block_size", "expected [rows, cols] positive integers");
      f.block_rows = b[0].get<int64_t>();
      f.block_cols = b[1].get<int64_t>();
    }
    c->fp8 = f;
  }
}

namespace {

FfnWeights bind_ffn(const TensorSet& t, const std::string& p, int64_t dim, int64_t ffn, bool u, const ModelConfig& c,
                    ModelWeights* w) {
  FfnWeights f;
  f.w1 = bind_linear(t, p + "gate_proj.weight", {dim, ffn}, u, c, w);
  f.w2 = bind_linear(t, p + "down_proj.weight", {ffn, dim}, u, c, w);
  f.w3 = bind_linear(t, p + "up_proj.weight", {dim, ffn}, u, c, w);
  return f;
}

}  // namespace

namespace {

// One transformer layer stored as model.layers.{index}: MLA attention plus the dense FFN or MoE
// (layer_is_moe(index) decides, so MTP blocks after the main layers are MoE when the main ones are).
void bind_layer(const TensorSet& t, int64_t index, const ModelConfig& c, bool u, ModelWeights* w, LayerWeights* l) {
  const MlaConfig& m = *c.mla;
  const int64_t d = c.dim, nh = c.attn.n_heads;
  const int64_t qk = m.qk_nope_dim + m.qk_rope_dim;
  const std::string p = "model.layers." + std::to_string(index) + ".";
  l->attn_norm = bind_tensor(t, p + "input_layernorm.weight", {d}, u);
  l->ffn_norm = bind_tensor(t, p + "post_attention_layernorm.weight", {d}, u);
  MlaWeights& a = l->mla;
  const std::string s = p + "self_attn.";
  if (m.q_lora_rank > 0) {
    a.wq_a = bind_linear(t, s + "q_a_proj.weight", {d, m.q_lora_rank}, u, c, w);
    a.q_norm = bind_tensor(t, s + "q_a_layernorm.weight", {m.q_lora_rank}, u);
    a.wq_b = bind_linear(t, s + "q_b_proj.weight", {m.q_lora_rank, nh * qk}, u, c, w);
  } else {
    a.wq = bind_linear(t, s + "q_proj.weight", {d, nh * qk}, u, c, w);
  }
  a.wkv_a = bind_linear(t, s + "kv_a_proj_with_mqa.weight", {d, m.kv_lora_rank + m.qk_rope_dim}, u, c, w);
  a.kv_norm = bind_tensor(t, s + "kv_a_layernorm.weight", {m.kv_lora_rank}, u);
  a.wkv_b = bind_linear(t, s + "kv_b_proj.weight", {m.kv_lora_rank, nh * (m.qk_nope_dim + m.v_head_dim)}, u, c, w);
  a.wo = bind_linear(t, s + "o_proj.weight", {nh * m.v_head_dim, d}, u, c, w);
  const std::string f = p + "mlp.";
  if (!c.layer_is_moe(index)) {
    FfnWeights dense = bind_ffn(t, f, d, c.ffn_dim, u, c, w);
    l->w1 = dense.w1;
    l->w2 = dense.w2;
    l->w3 = dense.w3;
    return;
  }
  const MoeConfig& e = *c.moe;
  l->moe.gate = bind_tensor(t, f + "gate.weight", {d, e.n_experts}, u);
  if (const TensorView* b = find_tensor_checked(t, f + "gate.e_score_correction_bias", {e.n_experts}, u))
    l->moe.gate_bias = *b;
  l->moe.experts.resize(e.n_experts);
  for (int64_t x = 0; x < e.n_experts; ++x)
    l->moe.experts[x] = bind_ffn(t, f + "experts." + std::to_string(x) + ".", d, e.expert_ffn_dim, u, c, w);
  if (e.n_shared_experts > 0)
    l->moe.shared = bind_ffn(t, f + "shared_experts.", d, e.n_shared_experts * e.expert_ffn_dim, u, c, w);
}

}  // namespace

void deepseek_gguf_bind(const TensorSet& t, const ModelConfig& c, const BindOptions& o, ModelWeights* w);

void deepseek_bind(const TensorSet& t, WeightNaming naming, const ModelConfig& c, const BindOptions& o,
                   ModelWeights* w) {
  if (naming == WeightNaming::kGguf) {
    deepseek_gguf_bind(t, c, o, w);
    return;
  }
  const bool u = o.require_usable;
  const int64_t d = c.dim;
  w->tok_embd = bind_tensor(t, "model.embed_tokens.weight", {d, c.n_vocab}, u);
  w->output_norm = bind_tensor(t, "model.norm.weight", {d}, u);
  w->output = c.tied_embeddings ? w->tok_embd : bind_tensor(t, "lm_head.weight", {d, c.n_vocab}, u);
  check_layer_count(t, c.n_layers, "model.layers." + std::to_string(c.n_layers - 1) + ".input_layernorm.weight",
                    t.path() + "/config.json", "num_hidden_layers");
  w->layers.resize(c.n_layers);
  for (int64_t i = 0; i < c.n_layers; ++i) bind_layer(t, i, c, u, w, &w->layers[i]);
  if (!o.load_mtp) return;
  check_layer_count(t, c.n_mtp_layers,
                    "model.layers." + std::to_string(c.n_layers + c.n_mtp_layers - 1) + ".input_layernorm.weight",
                    t.path() + "/config.json", "num_nextn_predict_layers");
  w->mtp.resize(c.n_mtp_layers);
  for (int64_t k = 0; k < c.n_mtp_layers; ++k) {
    const int64_t index = c.n_layers + k;
    const std::string p = "model.layers." + std::to_string(index) + ".";
    MtpWeights& m = w->mtp[k];
    m.embed = bind_tensor(t, p + "embed_tokens.weight", {d, c.n_vocab}, u);
    m.enorm = bind_tensor(t, p + "enorm.weight", {d}, u);
    m.hnorm = bind_tensor(t, p + "hnorm.weight", {d}, u);
    m.eh_proj = bind_linear(t, p + "eh_proj.weight", {2 * d, d}, u, c, w);
    m.head_norm = bind_tensor(t, p + "shared_head.norm.weight", {d}, u);
    m.head = bind_tensor(t, p + "shared_head.head.weight", {d, c.n_vocab}, u);
    bind_layer(t, index, c, u, w, &m.block);
  }
}

}  // namespace moeinfer
