// moeinfer logits -m MODEL (--tokens "1 2 3" | --text TEXT) [-o FILE]
//   -> {"tokens":[...],"logits":[[n_vocab floats] per position]}
// One forward pass over all tokens from position 0 (F32 KV cache).
#include <cstdio>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "cli/common.h"

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
  Runtime rt = open_runtime(a, false);
  if (a.flag("--mtp"))
    throw Error(rt.model->path(), "--mtp", "this model has no multi-token-prediction module");
  std::vector<int32_t> ids = prompt_ids(a, *rt.model);
  const int64_t n = static_cast<int64_t>(ids.size());
  auto session = rt.new_session(a, n);
  const float* logits = session->eval(ids, /*all_logits=*/true);
  const int64_t nv = rt.model->config().n_vocab;
  JsonWriter j;
  j.begin_object().key("tokens").ints(ids).key("logits").begin_array();
  for (int64_t t = 0; t < n; ++t) j.floats(logits + t * nv, nv);
  j.end_array().end_object();
  write_json_output(a, j.str());
  return 0;
}

}  // namespace moeinfer
