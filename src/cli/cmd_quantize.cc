// moeinfer quantize IN OUT --type f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|q4_k_m [-t THREADS] [-q]
// IN: a GGUF (any type) or a Llama/Mistral/DeepSeek Hugging Face directory; OUT: a GGUF llama.cpp reads,
// with llama.cpp's tensor types for that mix (convert/quant_mix.h, convert/quantize_model.h).
// Progress, fallbacks and a summary go to stderr; nothing goes to stdout.
#include <cstdio>
#include <cstring>
#include <map>

#include "base/error.h"
#include "base/thread_pool.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "convert/quantize_model.h"
#include "convert/tensor_export.h"

namespace moeinfer {

int cmd_quantize(int argc, char** argv) {
  const std::vector<OptSpec> specs = {
      {"--type", "", "TYPE", "output type mix: " + quant_mix_names() + " (q4_k = llama.cpp's Q4_K_S)"},
      {"--threads", "-t", "N", "threads (default: all cores)"},
      {"--quiet", "-q", "", "no progress on stderr"},
  };
  // IN and OUT are positional: split them from the options (whose values may follow them).
  std::vector<char*> rest = {argv[0], argv[1]};
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    if (s.size() > 1 && s[0] == '-') {
      rest.push_back(argv[i]);
      for (const OptSpec& o : specs)
        if ((s == o.name || s == o.short_name) && !o.value_name.empty() && i + 1 < argc) rest.push_back(argv[++i]);
    } else {
      positional.push_back(s);
    }
  }
  Args a("quantize", "IN OUT --type TYPE [-t N] [-q]", specs, static_cast<int>(rest.size()), rest.data(), 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    std::fputs("\nIN: a .gguf file (F32/F16/BF16 or quantized) or a Llama, Mistral or DeepSeek-V2/V3\n"
               "Hugging Face directory (FP8 weights are dequantized with their block scales; DeepSeek is written\n"
               "as llama.cpp's deepseek2 with the current attn_k_b/attn_v_b MLA layout and MTP blocks as nextn).\n"
               "OUT: a GGUF file with llama.cpp's tensor types for the mix; rows that do not fit a block\n"
               "fall back as llama.cpp does (q8_0/q4_0 -> f16, q4_K -> q5_0, q6_K -> q8_0).\n",
               stdout);
    return 0;
  }
  if (positional.size() != 2)
    throw UsageError(positional.size() < 2 ? "IN OUT" : positional[2],
                     positional.size() < 2 ? "expected an input model and an output file"
                                           : "unexpected argument; usage: moeinfer quantize IN OUT --type TYPE");
  if (!a.has("--type")) throw UsageError("--type", "expected --type " + quant_mix_names());
  const QuantMixInfo* mix = find_quant_mix(a.str("--type"));
  if (!mix) throw UsageError("--type", "expected one of " + quant_mix_names() + ", got '" + a.str("--type") + "'");
  QuantizeOptions o;
  o.mix = mix->mix;
  o.threads = static_cast<int>(a.integer("--threads", ThreadPool::default_threads(), 1, 1024));
  o.progress = !a.flag("--quiet");
  const double t0 = now_seconds();
  const QuantizeResult r = quantize_model(positional[0], positional[1], o);
  if (o.progress) {
    std::map<std::string, int> counts;
    for (const QuantizedTensor& t : r.tensors) ++counts[dtype_name(t.type)];
    std::string types;
    for (const auto& [k, v] : counts) types += (types.empty() ? "" : ", ") + k + " x" + std::to_string(v);
    std::fprintf(stderr, "quantize: wrote %s (%s): %zu tensors (%s), %s -> %s in %.1f s\n", positional[1].c_str(),
                 mix->name, r.tensors.size(), types.c_str(), human_bytes(r.in_bytes).c_str(),
                 human_bytes(r.out_bytes).c_str(), now_seconds() - t0);
  }
  return 0;
}

}  // namespace moeinfer
