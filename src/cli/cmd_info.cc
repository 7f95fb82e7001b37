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
      {"--model", "-m", "MODEL", "model file (.gguf)"},
      {"--output", "-o", "FILE", "write the JSON here instead of stdout"},
  };
  Args a("info", "-m MODEL [-o FILE]", specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  if (!a.has("--model")) throw UsageError("--model", "expected -m MODEL (a .gguf file)");
  LoadOptions lo;
  lo.require_usable_types = false;
  std::unique_ptr<Model> m = Model::load(a.str("--model"), lo);
  const ModelConfig& c = m->config();
  const ModelStats s = compute_stats(*m);
  JsonWriter j;
  j.begin_object();
  j.key("file").value(m->path()).key("format").value("gguf").key("gguf_version").value(int64_t{m->gguf().version()});
  j.key("file_size").value(m->gguf().file_size());
  j.key("architecture").value(c.arch).key("name").value(c.name);
  j.key("hyperparameters").begin_object();
  j.key("n_vocab").value(c.n_vocab).key("dim").value(c.dim).key("n_layers").value(c.n_layers);
  j.key("ffn_dim").value(c.ffn_dim).key("context_length").value(c.context_length);
  j.key("n_heads").value(c.attn.n_heads).key("n_kv_heads").value(c.attn.n_kv_heads);
  j.key("head_dim").value(c.attn.head_dim).key("sliding_window").value(c.attn.sliding_window);
  j.key("rope_dim").value(c.rope.n_rot).key("rope_theta").value(c.rope.theta);
  j.key("rope_pairing").value(c.rope.pairing == RopePairing::kInterleaved ? "interleaved" : "neox");
  j.key("rope_freq_scale").value(c.rope.freq_scale);
  j.key("norm_eps").value(c.norm_eps).key("tied_embeddings").value(c.tied_embeddings);
  j.end_object();
  j.key("n_tensors").value(static_cast<uint64_t>(m->gguf().tensors().size()));
  j.key("parameter_count").value(s.n_params);
  j.key("bytes_by_dtype").begin_object();
  for (const auto& [k, v] : s.bytes_by_dtype) j.key(k).value(v);
  j.end_object();
  j.key("params_by_dtype").begin_object();
  for (const auto& [k, v] : s.params_by_dtype) j.key(k).value(v);
  j.end_object();
  j.key("kv_bytes_per_token").value(s.kv_bytes_per_token);
  j.key("active_params_per_token").value(s.active_params_per_token);
  j.key("weight_bytes_per_token").value(s.weight_bytes_per_token);
  j.end_object();
  write_json_output(a, j.str());
  return 0;
}

}  // namespace moeinfer
