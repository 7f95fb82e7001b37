// moeinfer info -m MODEL -> JSON: architecture, hyperparameters, parameter count, bytes by dtype,
// kv_bytes_per_token, active_params_per_token. Like every loader it validates each tensor's data
// range against the file size; quantized types are recognized here even where no kernel exists yet.
#include <cstdio>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/model_stats.h"

namespace moeinfer {

int cmd_info(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model file (.gguf) or Hugging Face directory"},
      {"--output", "-o", "FILE", "write the JSON here instead of stdout"},
  };
  Args a("info", "-m MODEL [-o FILE]", specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  if (!a.has("--model")) throw UsageError("--model", "expected -m MODEL (a .gguf file or a model directory)");
  LoadOptions lo;
  lo.require_usable_types = false;
  std::unique_ptr<Model> m = Model::load(a.str("--model"), lo);
  const ModelConfig& c = m->config();
  const ModelStats s = compute_stats(*m);
  JsonWriter j;
  j.begin_object();
  j.key("file").value(m->path()).key("format").value(m->format());
  if (const GgufFile* g = m->gguf()) j.key("gguf_version").value(int64_t{g->version()}).key("file_size").value(g->file_size());
  j.key("architecture").value(c.arch).key("name").value(c.name);
  j.key("hyperparameters").begin_object();
  j.key("n_vocab").value(c.n_vocab).key("dim").value(c.dim).key("n_layers").value(c.n_layers);
  j.key("ffn_dim").value(c.ffn_dim).key("context_length").value(c.context_length);
  j.key("n_heads").value(c.attn.n_heads).key("n_kv_heads").value(c.attn.n_kv_heads);
  j.key("head_dim").value(c.attn.head_dim).key("sliding_window").value(c.attn.sliding_window);
  j.key("rope_dim").value(c.rope.n_rot).key("rope_theta").value(c.rope.theta);
  j.key("rope_pairing").value(c.rope.pairing == RopePairing::kInterleaved ? "interleaved" : "neox");
  const char* scaling[] = {"none", "linear", "llama3", "yarn"};
  j.key("rope_scaling").value(scaling[static_cast<int>(c.rope.scaling)]);
  if (c.rope.scaling != RopeScaling::kNone) j.key("rope_scaling_factor").value(c.rope.factor);
  j.key("norm_eps").value(c.norm_eps).key("tied_embeddings").value(c.tied_embeddings);
  if (c.mla) {
    j.key("mla").begin_object().key("q_lora_rank").value(c.mla->q_lora_rank);
    j.key("kv_lora_rank").value(c.mla->kv_lora_rank).key("qk_nope_head_dim").value(c.mla->qk_nope_dim);
    j.key("qk_rope_head_dim").value(c.mla->qk_rope_dim).key("v_head_dim").value(c.mla->v_head_dim);
    j.key("softmax_scale").value(c.attn.softmax_scale).end_object();
  }
  if (c.moe) {
    const MoeConfig& e = *c.moe;
    j.key("moe").begin_object().key("n_routed_experts").value(e.n_experts);
    j.key("num_experts_per_tok").value(e.n_experts_per_tok).key("moe_intermediate_size").value(e.expert_ffn_dim);
    j.key("n_shared_experts").value(e.n_shared_experts).key("n_group").value(e.n_group);
    j.key("topk_group").value(e.topk_group).key("first_k_dense_replace").value(e.first_dense_layers);
    j.key("scoring_func").value(e.scoring == MoeScoring::kSigmoid ? "sigmoid" : "softmax");
    j.key("norm_topk_prob").value(e.norm_topk_prob).key("routed_scaling_factor").value(e.routed_scaling_factor);
    j.end_object();
  }
  if (c.fp8) j.key("fp8_block").begin_array().value(c.fp8->block_rows).value(c.fp8->block_cols).end_array();
  j.end_object();
  j.key("n_tensors").value(static_cast<uint64_t>(m->tensors().tensors().size()));
  j.key("parameter_count").value(s.n_params);
  j.key("bytes_by_dtype").begin_object();
  for (const auto& [k, v] : s.bytes_by_dtype) j.key(k).value(v);
  j.end_object();
  j.key("params_by_dtype").begin_object();
  for (const auto& [k, v] : s.params_by_dtype) j.key(k).value(v);
  j.end_object();
  j.key("kv_bytes_per_token").value(s.kv_bytes_per_token);
  if (c.mla) j.key("kv_bytes_per_token_naive").value(s.kv_bytes_per_token_naive);
  j.key("kv_cache_max_tokens").value(s.kv_max_tokens);
  j.key("kv_cache_max_bytes").value(s.kv_bytes_per_token * static_cast<uint64_t>(s.kv_max_tokens));
  j.key("active_params_per_token").value(s.active_params_per_token);
  j.key("weight_bytes_per_token").value(s.weight_bytes_per_token);
  j.end_object();
  write_json_output(a, j.str());
  return 0;
}

}  // namespace moeinfer
