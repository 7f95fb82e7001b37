// moeinfer info -m MODEL -> JSON: architecture, hyperparameters, parameter count, bytes by dtype,
// kv_bytes_per_token, active_params_per_token. Like every loader it validates each tensor's data
// range against the file size; quantized types are recognized here even where no kernel exists yet.
#include <cstdio>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "chat/chat_template.h"
#include "cli/common.h"
#include "engine/loaded_model.h"
#include "formats/gguf_reader.h"
#include "model/model_stats.h"

namespace moeinfer {

namespace {
// llama.cpp's enum llama_ftype (general.file_type), as its file names spell the types.
std::string ftype_name(uint32_t t) {
  switch (t) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K_S";
    case 12: return "Q3_K_M";
    case 13: return "Q3_K_L";
    case 14: return "Q4_K_S";
    case 15: return "Q4_K_M";
    case 16: return "Q5_K_S";
    case 17: return "Q5_K_M";
    case 18: return "Q6_K";
    case 19: return "IQ2_XXS";
    case 20: return "IQ2_XS";
    case 21: return "Q2_K_S";
    case 22: return "IQ3_XS";
    case 23: return "IQ3_XXS";
    case 24: return "IQ1_S";
    case 25: return "IQ4_NL";
    case 26: return "IQ3_S";
    case 27: return "IQ3_M";
    case 28: return "IQ2_S";
    case 29: return "IQ2_M";
    case 30: return "IQ4_XS";
    case 31: return "IQ1_M";
    case 32: return "BF16";
    case 36: return "TQ1_0";
    case 37: return "TQ2_0";
    default: return "unknown (" + std::to_string(t) + ")";
  }
}
}  // namespace

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
  if (const GgufFile* g = m->gguf(); g && g->has("general.file_type"))
    j.key("file_type").value(ftype_name(static_cast<uint32_t>(g->get_uint("general.file_type"))));
  // The vocabulary and chat template beside the weights.
  j.key("tokenizer").begin_object();
  std::string kind = "none";
  if (const GgufFile* g = m->gguf()) {
    kind = g->get_string("tokenizer.ggml.model", "none");
    if (g->has("tokenizer.ggml.pre")) j.key("pre").value(g->get_string("tokenizer.ggml.pre"));
  } else {
    kind = "tokenizer.json";
  }
  j.key("type").value(kind);
  try {
    if (std::unique_ptr<Tokenizer> tok = load_model_tokenizer(*m)) {
      j.key("n_tokens").value(tok->n_vocab()).key("bos_id").value(int64_t{tok->bos_id()});
      j.key("eos_id").value(int64_t{tok->eos_id()});
      std::vector<int32_t> eog = tok->eog_ids();
      j.key("eog_ids").ints(eog);
    } else {
      j.key("n_tokens").value(int64_t{0});
    }
  } catch (const Error& e) {
    j.key("error").value(e.what());
  }
  j.end_object();
  bool has_template = false;
  try {
    ChatTemplate::load(m->path());
    has_template = true;
  } catch (const Error&) {
  }
  j.key("chat_template").value(has_template);
  j.end_object();
  write_json_output(a, j.str());
  return 0;
}

}  // namespace moeinfer
