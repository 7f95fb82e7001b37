// moeinfer make-model --arch llama|mistral|deepseek_v3|deepseek_v2 --preset NAME
//                     [--type f16|bf16|f32|q8_0|q4_0|q4_k|q6_k|q4_k_m|fp8] [--seed S] [-t N] -o OUT
// Writes a random-weight model in the shape of a real one (convert/make_model.h); --list-presets
// prints the presets. Progress and a summary go to stderr.
#include <cstdio>

#include "base/error.h"
#include "base/thread_pool.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "convert/make_model.h"
#include "convert/model_presets.h"
#include "convert/tensor_export.h"

namespace moeinfer {

int cmd_make_model(int argc, char** argv) {
  const std::vector<OptSpec> specs = {
      {"--arch", "", "ARCH", "llama, mistral, deepseek_v3 or deepseek_v2"},
      {"--preset", "", "NAME", "model shape (see --list-presets), e.g. llama-3.1-8b, deepseek-v2-lite, tiny"},
      {"--type", "", "TYPE",
       "GGUF: f16 (default), bf16, f32, q8_0, q4_0, q4_k, q6_k, q4_k_m; directory: bf16 (default), f16, f32, "
       "fp8 (DeepSeek)"},
      {"--seed", "", "S", "random seed (default 0)"},
      {"--vocab", "", "N", "vocabulary size instead of the preset's (e.g. to match a tokenizer)"},
      {"--output", "-o", "OUT", "a .gguf file (llama.cpp layout) or a new directory (Hugging Face layout)"},
      {"--threads", "-t", "N", "threads (default: all cores)"},
      {"--quiet", "-q", "", "no progress on stderr"},
      {"--list-presets", "", "", "list the presets and exit"},
      {"--dry-run", "", "", "report parameters and size without writing"},
      {"--router-skew", "", "S", "DeepSeek: expert popularity per layer following Zipf(S) through the router bias "
                                 "(docs/router-skew.md; default 0 = the near-uniform routing of random weights)"},
  };
  Args a("make-model", "--arch ARCH --preset NAME [--type TYPE] [--seed S] -o OUT", specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  if (a.flag("--list-presets")) {
    for (const ModelPreset& p : model_presets()) std::printf("%-12s %-18s %s\n", p.arch, p.name, p.what);
    return 0;
  }
  if (!a.has("--arch")) throw UsageError("--arch", "expected --arch llama|mistral|deepseek_v3|deepseek_v2");
  const std::string arch = a.str("--arch");
  const std::string names = model_preset_names(arch);
  if (names.empty())
    throw UsageError("--arch", "expected llama, mistral, deepseek_v3 or deepseek_v2, got '" + arch + "'");
  if (!a.has("--preset")) throw UsageError("--preset", "expected --preset NAME (" + arch + ": " + names + ")");
  const ModelPreset* preset = find_model_preset(arch, a.str("--preset"));
  if (!preset)
    throw UsageError("--preset", "unknown preset '" + a.str("--preset") + "' for " + arch + " (expected " + names + ")");
  if (!a.has("--output")) throw UsageError("--output", "expected -o OUT (a .gguf file or a new directory)");
  MakeModelOptions o;
  o.type = a.str("--type");
  o.seed = static_cast<uint64_t>(a.integer("--seed", 0, 0, INT64_MAX));
  o.threads = static_cast<int>(a.integer("--threads", ThreadPool::default_threads(), 1, 1024));
  o.progress = !a.flag("--quiet");
  o.dry_run = a.flag("--dry-run");
  o.router_skew = a.number("--router-skew", 0.0, 0.0, 10.0);
  const double t0 = now_seconds();
  ModelConfig config = preset->make();
  if (o.router_skew > 0 && !config.moe) throw UsageError("--router-skew", "the " + arch + " preset has no routed experts");
  if (a.has("--vocab")) config.n_vocab = a.integer("--vocab", config.n_vocab, 2, int64_t{1} << 22);
  const MakeModelResult r = make_model(config, a.str("--output"), o);
  if (o.progress && !o.dry_run)
    std::fprintf(stderr, "make-model: wrote %s: %d file%s, %s in %.1f s\n", a.str("--output").c_str(), r.n_files,
                 r.n_files == 1 ? "" : "s", human_bytes(r.bytes).c_str(), now_seconds() - t0);
  return 0;
}

}  // namespace moeinfer
