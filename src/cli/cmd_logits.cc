// moeinfer logits -m MODEL (--tokens "1 2 3" | --text TEXT) [-o FILE]
//   -> {"tokens":[...],"logits":[[n_vocab floats] per position]}
// One forward pass over all tokens from position 0 (F32 KV cache).
#include <cstdio>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/mtp_runner.h"
#include "engine/sampler.h"

namespace moeinfer {

int cmd_logits(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model: a .gguf file or a Hugging Face model directory"},
      {"--tokens", "", "IDS", "token ids, e.g. \"1 2 3\", fed exactly as given"},
      {"--text", "", "TEXT", "text to tokenize (BOS added as the tokenizer says)"},
      {"--output", "-o", "FILE", "write the JSON here instead of stdout"},
      {"--mtp", "", "", "also MTP logits (DeepSeek-V3 models with an MTP module)"},
  };
  for (auto& o : model_run_options()) specs.push_back(o);
  Args a("logits", "-m MODEL (--tokens IDS | --text TEXT) [-o FILE]", specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  const bool mtp = a.flag("--mtp");
  Runtime rt = open_runtime(a, false, mtp);
  std::vector<int32_t> ids = prompt_ids(a, *rt.model, rt.tokenizer.get());
  const int64_t n = static_cast<int64_t>(ids.size());
  const ModelConfig& c = rt.model->config();
  auto session = rt.new_session(a, n);
  std::vector<float> hidden(mtp ? static_cast<size_t>(n * c.dim) : 0);
  const float* logits = session->eval(ids.data(), n, /*all_logits=*/true, mtp ? hidden.data() : nullptr);
  const int64_t nv = c.n_vocab;
  JsonWriter j;
  j.begin_object().key("tokens").ints(ids).key("logits").begin_array();
  for (int64_t t = 0; t < n; ++t) j.floats(logits + t * nv, nv);
  j.end_array();
  if (mtp) {
    // MTP row i is fed the true token i+1; the last row is fed the main model's argmax there.
    std::vector<int32_t> next(ids.begin() + 1, ids.end());
    const int32_t last_greedy = argmax(logits + (n - 1) * nv, nv);
    next.push_back(last_greedy);
    MtpRunner runner(*rt.model, *rt.kernels, *rt.pool, session->capacity(), n, session_mla_absorbed(a));
    const float* ml = runner.eval(hidden.data(), next.data(), n);
    j.key("mtp_logits").begin_array();
    for (int64_t t = 0; t + 1 < n; ++t) j.floats(ml + t * nv, nv);
    j.end_array();
    j.key("mtp_last_greedy").begin_object().key("next_token").value(static_cast<int64_t>(last_greedy));
    j.key("logits").floats(ml + (n - 1) * nv, nv).end_object();
  }
  j.end_object();
  write_json_output(a, j.str());
  return 0;
}

}  // namespace moeinfer
