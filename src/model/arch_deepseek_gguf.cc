// DeepSeek-V2/V3 as llama.cpp writes it (general.architecture = "deepseek2"): keys `deepseek2.*`
// and tensor names `blk.N.attn_q_a`, `attn_kv_a_mqa`, `attn_k_b`/`attn_v_b` (current MLA layout) or
// `attn_kv_b` (legacy), stacked experts `ffn_{gate,up,down}_exps` [n_expert][ffn][dim], shared
// experts `*_shexp`, router `ffn_gate_inp` and its bias `exp_probs_b.bias`. Defaults are
// llama.cpp's for keys its converter omits. The last `nextn_predict_layers` blocks are MTP blocks.
#include <cmath>

#include "base/error.h"
#include "model/arch_registry.h"
#include "model/count_check.h"
#include "model/rope.h"

namespace moeinfer {

void deepseek_gguf_read(const GgufFile& g, ModelConfig* c) {
  const std::string a = "deepseek2.", p = g.path();
  auto u = [&](const std::string& k) { return static_cast<int64_t>(g.get_uint(a + k)); };
  auto uo = [&](const std::string& k, int64_t d) { return static_cast<int64_t>(g.get_uint(a + k, d)); };
  c->name = g.get_string("general.name", "");
  c->context_length = u("context_length");
  c->dim = u("embedding_length");
  const int64_t blocks = u("block_count");
  c->n_mtp_layers = uo("nextn_predict_layers", 0);
  if (c->n_mtp_layers < 0 || c->n_mtp_layers >= blocks)
    throw Error(p, a + "nextn_predict_layers", "expected fewer than block_count " + std::to_string(blocks));
  c->n_layers = blocks - c->n_mtp_layers;
  c->ffn_dim = u("feed_forward_length");
  c->attn.n_heads = u("attention.head_count");
  c->attn.n_kv_heads = c->attn.n_heads;
  c->norm_eps = static_cast<float>(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  if (g.has(a + "vocab_size")) c->n_vocab = u("vocab_size");
  else if (const TensorView* e = g.find_tensor("token_embd.weight")) c->n_vocab = e->ne[1];
  else throw Error(p, "tensor 'token_embd.weight'", "required tensor is missing");
  c->tied_embeddings = g.find_tensor("output.weight") == nullptr;

  MlaConfig m;
  // The q path comes from the tensors present, never from a layer count.
  m.q_lora_rank = g.find_tensor("blk.0.attn_q_a.weight") ? u("attention.q_lora_rank") : 0;
  m.kv_lora_rank = u("attention.kv_lora_rank");
  m.qk_rope_dim = u("rope.dimension_count");
  const bool mla_keys = g.has(a + "attention.key_length_mla");
  const int64_t key_len = mla_keys ? u("attention.key_length_mla") : u("attention.key_length");
  m.v_head_dim = mla_keys ? u("attention.value_length_mla") : u("attention.value_length");
  m.qk_nope_dim = key_len - m.qk_rope_dim;
  if (m.qk_nope_dim <= 0)
    throw Error(p, a + (mla_keys ? "attention.key_length_mla" : "attention.key_length"),
                "expected more than rope.dimension_count " + std::to_string(m.qk_rope_dim));
  c->mla = m;
  c->attn.head_dim = key_len;

  c->rope.n_rot = m.qk_rope_dim;
  c->rope.theta = g.get_float(a + "rope.freq_base", 10000.0);
  c->rope.pairing = RopePairing::kInterleaved;
  double mscale_all_dim = 0.0;
  const std::string st = g.get_string(a + "rope.scaling.type", "none");
  if (st == "yarn") {
    c->rope.scaling = RopeScaling::kYarn;
    c->rope.factor = g.get_float(a + "rope.scaling.factor");
    c->rope.original_context = static_cast<int64_t>(g.get_uint(a + "rope.scaling.original_context_length"));
    c->rope.beta_fast = g.get_float(a + "rope.scaling.yarn_beta_fast", 32.0);
    c->rope.beta_slow = g.get_float(a + "rope.scaling.yarn_beta_slow", 1.0);
    // llama.cpp stores 0.1 · mscale_all_dim as yarn_log_multiplier (an F32); dividing in F32 as
    // llama.cpp does gives back the usual 1.0 exactly
    mscale_all_dim = static_cast<float>(g.get_float(a + "rope.scaling.yarn_log_multiplier", 0.0)) / 0.1f;
    c->rope.mscale = c->rope.mscale_all_dim = mscale_all_dim;
  } else if (st != "none") {
    throw Error(p, a + "rope.scaling.type", "expected none or yarn, got '" + st + "'");
  }
  const double m_all = c->rope.scaling == RopeScaling::kYarn ? yarn_mscale(c->rope.factor, mscale_all_dim) : 1.0;
  c->attn.softmax_scale = 1.0 / std::sqrt(static_cast<double>(key_len)) * m_all * m_all;

  if (g.has(a + "expert_count")) {
    MoeConfig e;
    e.n_experts = u("expert_count");
    e.n_experts_per_tok = u("expert_used_count");
    e.expert_ffn_dim = u("expert_feed_forward_length");
    e.n_shared_experts = uo("expert_shared_count", 0);
    e.first_dense_layers = uo("leading_dense_block_count", 0);
    e.n_group = uo("expert_group_count", 1);
    e.topk_group = uo("expert_group_used_count", 1);
    e.norm_topk_prob = g.get_bool(a + "expert_weights_norm", false);
    e.routed_scaling_factor = static_cast<float>(g.get_float(a + "expert_weights_scale", 1.0));
    const int64_t gating = uo("expert_gating_func", 1);
    if (gating == 1) e.scoring = MoeScoring::kSoftmax;
    else if (gating == 2) e.scoring = MoeScoring::kSigmoid;
    else throw Error(p, a + "expert_gating_func", "expected 1 (softmax) or 2 (sigmoid), got " + std::to_string(gating));
    c->moe = e;
  }
  c->arch = c->moe && c->moe->scoring == MoeScoring::kSigmoid ? "deepseek_v3" : "deepseek_v2";
}

namespace {

FfnWeights bind_ffn_gguf(const TensorSet& t, const std::string& p, const std::string& suffix, int64_t d, int64_t ffn,
                         bool u) {
  FfnWeights f;
  f.w1 = bind_tensor(t, p + "ffn_gate" + suffix + ".weight", {d, ffn}, u);
  f.w2 = bind_tensor(t, p + "ffn_down" + suffix + ".weight", {ffn, d}, u);
  f.w3 = bind_tensor(t, p + "ffn_up" + suffix + ".weight", {d, ffn}, u);
  return f;
}

// One block `blk.{index}` (main layers and MTP blocks share the block tensors' names).
void bind_block(const TensorSet& t, int64_t index, const ModelConfig& c, bool u, LayerWeights* l) {
  const MlaConfig& m = *c.mla;
  const int64_t d = c.dim, nh = c.attn.n_heads, qk = m.qk_nope_dim + m.qk_rope_dim;
  const std::string p = "blk." + std::to_string(index) + ".";
  l->attn_norm = bind_tensor(t, p + "attn_norm.weight", {d}, u);
  l->ffn_norm = bind_tensor(t, p + "ffn_norm.weight", {d}, u);
  MlaWeights& a = l->mla;
  if (m.q_lora_rank > 0) {
    a.wq_a = bind_tensor(t, p + "attn_q_a.weight", {d, m.q_lora_rank}, u);
    a.q_norm = bind_tensor(t, p + "attn_q_a_norm.weight", {m.q_lora_rank}, u);
    a.wq_b = bind_tensor(t, p + "attn_q_b.weight", {m.q_lora_rank, nh * qk}, u);
  } else {
    a.wq = bind_tensor(t, p + "attn_q.weight", {d, nh * qk}, u);
  }
  a.wkv_a = bind_tensor(t, p + "attn_kv_a_mqa.weight", {d, m.kv_lora_rank + m.qk_rope_dim}, u);
  a.kv_norm = bind_tensor(t, p + "attn_kv_a_norm.weight", {m.kv_lora_rank}, u);
  if (t.find_tensor(p + "attn_kv_b.weight")) {
    a.wkv_b = bind_tensor(t, p + "attn_kv_b.weight", {m.kv_lora_rank, nh * (m.qk_nope_dim + m.v_head_dim)}, u);
  } else {
    a.wk_b = bind_tensor(t, p + "attn_k_b.weight", {m.qk_nope_dim, m.kv_lora_rank, nh}, u);
    a.wv_b = bind_tensor(t, p + "attn_v_b.weight", {m.kv_lora_rank, m.v_head_dim, nh}, u);
  }
  a.wo = bind_tensor(t, p + "attn_output.weight", {nh * m.v_head_dim, d}, u);
  if (!c.layer_is_moe(index)) {
    FfnWeights f = bind_ffn_gguf(t, p, "", d, c.ffn_dim, u);
    l->w1 = f.w1;
    l->w2 = f.w2;
    l->w3 = f.w3;
    return;
  }
  const MoeConfig& e = *c.moe;
  l->moe.gate = bind_tensor(t, p + "ffn_gate_inp.weight", {d, e.n_experts}, u);
  if (const TensorView* b = find_tensor_checked(t, p + "exp_probs_b.bias", {e.n_experts}, u)) l->moe.gate_bias = *b;
  const TensorView gate = bind_tensor(t, p + "ffn_gate_exps.weight", {d, e.expert_ffn_dim, e.n_experts}, u);
  const TensorView up = bind_tensor(t, p + "ffn_up_exps.weight", {d, e.expert_ffn_dim, e.n_experts}, u);
  const TensorView down = bind_tensor(t, p + "ffn_down_exps.weight", {e.expert_ffn_dim, d, e.n_experts}, u);
  l->moe.experts.resize(e.n_experts);
  for (int64_t x = 0; x < e.n_experts; ++x) {
    l->moe.experts[x].w1 = gate.rows_slice(x * e.expert_ffn_dim, e.expert_ffn_dim);
    l->moe.experts[x].w3 = up.rows_slice(x * e.expert_ffn_dim, e.expert_ffn_dim);
    l->moe.experts[x].w2 = down.rows_slice(x * d, d);
  }
  if (e.n_shared_experts > 0) l->moe.shared = bind_ffn_gguf(t, p, "_shexp", d, e.n_shared_experts * e.expert_ffn_dim, u);
}

}  // namespace

void deepseek_gguf_bind(const TensorSet& t, const ModelConfig& c, const BindOptions& o, ModelWeights* w) {
  const bool u = o.require_usable;
  const int64_t d = c.dim;
  w->tok_embd = bind_tensor(t, "token_embd.weight", {d, c.n_vocab}, u);
  w->output_norm = bind_tensor(t, "output_norm.weight", {d}, u);
  w->output = c.tied_embeddings ? w->tok_embd : bind_tensor(t, "output.weight", {d, c.n_vocab}, u);
  check_layer_count(t, c.n_layers, "blk." + std::to_string(c.n_layers - 1) + ".attn_norm.weight", t.path(),
                    "deepseek2.block_count");
  w->layers.resize(c.n_layers);
  for (int64_t i = 0; i < c.n_layers; ++i) bind_block(t, i, c, u, &w->layers[i]);
  if (!o.load_mtp) return;
  check_layer_count(t, c.n_mtp_layers, "blk." + std::to_string(c.n_layers + c.n_mtp_layers - 1) + ".nextn.enorm.weight",
                    t.path(), "deepseek2.nextn_predict_layers");
  w->mtp.resize(c.n_mtp_layers);
  for (int64_t k = 0; k < c.n_mtp_layers; ++k) {
    const int64_t index = c.n_layers + k;
    const std::string p = "blk." + std::to_string(index) + ".nextn.";
    MtpWeights& m = w->mtp[k];
    // llama.cpp's converter keeps embed_tokens / shared_head.head only when they differ; fall back
    // to the main model's tensors otherwise.
    const TensorView* emb = find_tensor_checked(t, p + "embed_tokens.weight", {d, c.n_vocab}, u);
    m.embed = emb ? *emb : w->tok_embd;
    m.enorm = bind_tensor(t, p + "enorm.weight", {d}, u);
    m.hnorm = bind_tensor(t, p + "hnorm.weight", {d}, u);
    m.eh_proj = bind_tensor(t, p + "eh_proj.weight", {2 * d, d}, u);
    m.head_norm = bind_tensor(t, p + "shared_head_norm.weight", {d}, u);
    const TensorView* head = find_tensor_checked(t, p + "shared_head_head.weight", {d, c.n_vocab}, u);
    m.head = head ? *head : w->output;
    bind_block(t, index, c, u, &m.block);
  }
}

}  // namespace moeinfer
