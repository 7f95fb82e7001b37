#include "convert/deepseek_export.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "base/error.h"
#include "kernels/ops.h"

namespace moeinfer {

namespace {

std::vector<int64_t> shape_of(const TensorView& v) { return std::vector<int64_t>(v.ne, v.ne + v.n_dims); }

// Rows of the n stacked sources (each `rows` rows of the same length): expert x's row r is row
// x·rows + r.
RowFn stacked_rows(std::vector<RowFn> parts, int64_t rows) {
  return [parts = std::move(parts), rows](int64_t row, float* out) { parts[static_cast<size_t>(row / rows)](row % rows, out); };
}

// attn_k_b row h·kv_lora + c: element j is kv_b[h·(nope + v) + j][c] (W_uk of head h, transposed).
// Gathering a column needs the head's nope rows: each thread keeps the last head it produced (the
// writer hands every thread a contiguous range of rows, so a head is produced once per thread).
RowFn k_b_rows(RowFn kv_b, int64_t kv_lora, int64_t nope, int64_t v_dim) {
  static std::atomic<uint64_t> next_id{1};
  const uint64_t id = next_id++;
  return [kv_b = std::move(kv_b), id, kv_lora, nope, v_dim](int64_t row, float* out) {
    struct Cache {
      uint64_t id = 0;
      int64_t head = -1;
      std::vector<float> rows;
    };
    thread_local Cache cache;
    const int64_t h = row / kv_lora, c = row % kv_lora;
    if (cache.id != id || cache.head != h) {
      cache.rows.resize(static_cast<size_t>(nope * kv_lora));
      for (int64_t j = 0; j < nope; ++j) kv_b(h * (nope + v_dim) + j, cache.rows.data() + j * kv_lora);
      cache.id = id;
      cache.head = h;
    }
    for (int64_t j = 0; j < nope; ++j) out[j] = cache.rows[static_cast<size_t>(j * kv_lora + c)];
  };
}

// attn_v_b row h·v + i is kv_b row h·(nope + v) + nope + i (W_uv of head h).
RowFn v_b_rows(RowFn kv_b, int64_t nope, int64_t v_dim) {
  return [kv_b = std::move(kv_b), nope, v_dim](int64_t row, float* out) {
    kv_b(row / v_dim * (nope + v_dim) + nope + row % v_dim, out);
  };
}

class TensorList {
 public:
  TensorList(std::vector<SourceTensor>* out, const RowsOf& rows_of) : out_(out), rows_of_(rows_of) {}
  RowFn rows(const TensorView& v) const { return rows_of_(v); }
  void add(const std::string& name, const TensorView& v) { out_->push_back({name, shape_of(v), v.type, rows_of_(v)}); }
  void add(const std::string& name, std::vector<int64_t> ne, DType from, RowFn rows) {
    out_->push_back({name, std::move(ne), from, std::move(rows)});
  }

 private:
  std::vector<SourceTensor>* out_;
  const RowsOf& rows_of_;
};

void add_ffn(TensorList& t, const std::string& p, const std::string& suffix, const FfnWeights& f) {
  t.add(p + "ffn_gate" + suffix + ".weight", f.w1);
  t.add(p + "ffn_up" + suffix + ".weight", f.w3);
  t.add(p + "ffn_down" + suffix + ".weight", f.w2);
}

void add_block(TensorList& t, const ModelConfig& c, int64_t index, const LayerWeights& l) {
  const MlaConfig& m = *c.mla;
  const int64_t nh = c.attn.n_heads;
  const std::string p = "blk." + std::to_string(index) + ".";
  const MlaWeights& a = l.mla;
  t.add(p + "attn_norm.weight", l.attn_norm);
  if (m.q_lora_rank > 0) {
    t.add(p + "attn_q_a.weight", a.wq_a);
    t.add(p + "attn_q_a_norm.weight", a.q_norm);
    t.add(p + "attn_q_b.weight", a.wq_b);
  } else {
    t.add(p + "attn_q.weight", a.wq);
  }
  t.add(p + "attn_kv_a_mqa.weight", a.wkv_a);
  t.add(p + "attn_kv_a_norm.weight", a.kv_norm);
  if (a.wkv_b.data) {
    t.add(p + "attn_k_b.weight", {m.qk_nope_dim, m.kv_lora_rank, nh}, a.wkv_b.type,
          k_b_rows(t.rows(a.wkv_b), m.kv_lora_rank, m.qk_nope_dim, m.v_head_dim));
    t.add(p + "attn_v_b.weight", {m.kv_lora_rank, m.v_head_dim, nh}, a.wkv_b.type,
          v_b_rows(t.rows(a.wkv_b), m.qk_nope_dim, m.v_head_dim));
  } else {  // already split (a current-layout GGUF)
    t.add(p + "attn_k_b.weight", a.wk_b);
    t.add(p + "attn_v_b.weight", a.wv_b);
  }
  t.add(p + "attn_output.weight", a.wo);
  t.add(p + "ffn_norm.weight", l.ffn_norm);
  if (!c.layer_is_moe(index)) {
    add_ffn(t, p, "", FfnWeights{l.w1, l.w2, l.w3});
    return;
  }
  const MoeConfig& e = *c.moe;
  const MoeWeights& moe = l.moe;
  t.add(p + "ffn_gate_inp.weight", moe.gate);
  if (moe.gate_bias.data) t.add(p + "exp_probs_b.bias", moe.gate_bias);
  std::vector<RowFn> gate, up, down;
  for (const FfnWeights& x : moe.experts) {
    gate.push_back(t.rows(x.w1));
    up.push_back(t.rows(x.w3));
    down.push_back(t.rows(x.w2));
  }
  const DType from = moe.experts.front().w1.type;
  t.add(p + "ffn_gate_exps.weight", {c.dim, e.expert_ffn_dim, e.n_experts}, from, stacked_rows(gate, e.expert_ffn_dim));
  t.add(p + "ffn_up_exps.weight", {c.dim, e.expert_ffn_dim, e.n_experts}, from, stacked_rows(up, e.expert_ffn_dim));
  t.add(p + "ffn_down_exps.weight", {e.expert_ffn_dim, c.dim, e.n_experts}, from, stacked_rows(down, c.dim));
  if (e.n_shared_experts > 0) add_ffn(t, p, "_shexp", moe.shared);
}

}  // namespace

RowFn view_rows(const TensorView& v) {
  return [v](int64_t row, float* out) { embedding_row(out, v, row); };
}

std::vector<SourceTensor> deepseek_gguf_tensors(const ModelConfig& c, const ModelWeights& w, const RowsOf& rows_of) {
  std::vector<SourceTensor> out;
  TensorList t(&out, rows_of);
  t.add("token_embd.weight", w.tok_embd);
  for (int64_t i = 0; i < c.n_layers; ++i) add_block(t, c, i, w.layers[static_cast<size_t>(i)]);
  for (size_t k = 0; k < w.mtp.size(); ++k) {
    const MtpWeights& m = w.mtp[k];
    const int64_t index = c.n_layers + static_cast<int64_t>(k);
    add_block(t, c, index, m.block);
    const std::string p = "blk." + std::to_string(index) + ".nextn.";
    t.add(p + "eh_proj.weight", m.eh_proj);
    t.add(p + "enorm.weight", m.enorm);
    t.add(p + "hnorm.weight", m.hnorm);
    t.add(p + "embed_tokens.weight", m.embed);
    t.add(p + "shared_head_norm.weight", m.head_norm);
    t.add(p + "shared_head_head.weight", m.head);
  }
  t.add("output_norm.weight", w.output_norm);
  if (!c.tied_embeddings) t.add("output.weight", w.output);
  return out;
}

void add_deepseek_gguf_metadata(GgufStreamWriter* w, const ModelConfig& c, const std::string& file) {
  const std::string a = "deepseek2.";
  auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  const MlaConfig& m = *c.mla;
  w->add_string("general.architecture", "deepseek2");
  w->add_string("general.name", c.name.empty() ? std::string("deepseek") : c.name);
  w->add_uint32(a + "context_length", u32(c.context_length));
  w->add_uint32(a + "embedding_length", u32(c.dim));
  w->add_uint32(a + "block_count", u32(c.n_layers + c.n_mtp_layers));
  w->add_uint32(a + "feed_forward_length", u32(c.ffn_dim));
  w->add_uint32(a + "attention.head_count", u32(c.attn.n_heads));
  w->add_uint32(a + "attention.head_count_kv", 1);  // MLA as MQA over the latent
  w->add_float32(a + "rope.freq_base", static_cast<float>(c.rope.theta));
  w->add_float32(a + "attention.layer_norm_rms_epsilon", c.norm_eps);
  if (c.moe) {
    w->add_uint32(a + "expert_count", u32(c.moe->n_experts));
    w->add_uint32(a + "expert_used_count", u32(c.moe->n_experts_per_tok));
    w->add_uint32(a + "leading_dense_block_count", u32(c.moe->first_dense_layers));
  }
  w->add_uint32(a + "vocab_size", u32(c.n_vocab));
  // llama.cpp requires the key unless the model has DeepSeek-V2-Lite's layer count; 0 = no q LoRA
  w->add_uint32(a + "attention.q_lora_rank", u32(m.q_lora_rank));
  w->add_uint32(a + "attention.kv_lora_rank", u32(m.kv_lora_rank));
  w->add_uint32(a + "attention.key_length", u32(m.kv_lora_rank + m.qk_rope_dim));
  w->add_uint32(a + "attention.value_length", u32(m.kv_lora_rank));
  w->add_uint32(a + "attention.key_length_mla", u32(m.qk_nope_dim + m.qk_rope_dim));
  w->add_uint32(a + "attention.value_length_mla", u32(m.v_head_dim));
  if (c.moe) {
    const MoeConfig& e = *c.moe;
    w->add_uint32(a + "expert_feed_forward_length", u32(e.expert_ffn_dim));
    w->add_uint32(a + "expert_shared_count", u32(e.n_shared_experts));
    w->add_float32(a + "expert_weights_scale", e.routed_scaling_factor);
    w->add_bool(a + "expert_weights_norm", e.norm_topk_prob);
    w->add_uint32(a + "expert_gating_func", e.scoring == MoeScoring::kSigmoid ? 2 : 1);
    w->add_uint32(a + "expert_group_count", u32(e.n_group));
    w->add_uint32(a + "expert_group_used_count", u32(e.topk_group));
  }
  w->add_uint32(a + "rope.dimension_count", u32(m.qk_rope_dim));
  if (c.rope.scaling == RopeScaling::kYarn) {
    w->add_string(a + "rope.scaling.type", "yarn");
    w->add_float32(a + "rope.scaling.factor", static_cast<float>(c.rope.factor));
    w->add_uint32(a + "rope.scaling.original_context_length", u32(c.rope.original_context));
    w->add_float32(a + "rope.scaling.yarn_log_multiplier", static_cast<float>(0.1 * c.rope.mscale_all_dim));
    w->add_float32(a + "rope.scaling.yarn_beta_fast", static_cast<float>(c.rope.beta_fast));
    w->add_float32(a + "rope.scaling.yarn_beta_slow", static_cast<float>(c.rope.beta_slow));
  } else if (c.rope.scaling != RopeScaling::kNone) {
    throw Error(file, "rope_scaling", "deepseek2 GGUF files carry only YaRN rope scaling");
  }
  if (c.n_mtp_layers > 0) w->add_uint32(a + "nextn_predict_layers", u32(c.n_mtp_layers));
}

}  // namespace moeinfer
