// moeinfer generate -m MODEL (--tokens IDS | --text TEXT) -n N [--greedy] [--step-logits]
//   -> {"prompt":[...],"generated":[...],"text":"..."} on one line.
// The prompt is prefilled in one batch; every further token is decoded one at a time through the
// KV cache. Greedy = argmax with the lowest id winning ties; no stop at EOS unless --stop-at-eos.
#include <cstdio>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sampling_options.h"
#include "runtime/sampler.h"

namespace moeinfer {

int cmd_generate(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model: a .gguf file or a Hugging Face model directory"},
      {"--tokens", "", "IDS", "prompt token ids, fed exactly as given"},
      {"--text", "", "TEXT", "prompt text (BOS added as the tokenizer says)"},
      {"--n-predict", "-n", "N", "tokens to generate (required)"},
      {"--greedy", "", "", "argmax decoding (same as --temp 0)"},
      {"--step-logits", "", "", "also output the logits that chose each generated token"},
      {"--stop-at-eos", "", "", "stop when the end-of-sequence token is generated"},
      {"--draft", "", "KIND", "speculative drafter (mtp|ngram; not available yet)"},
      {"--mtp-speculative", "", "", "same as --draft mtp"},
      {"--output", "-o", "FILE", "write the JSON here instead of stdout"},
  };
  for (auto& o : sampling_option_specs()) specs.push_back(o);
  for (auto& o : model_run_options()) specs.push_back(o);
  Args a("generate", "-m MODEL (--tokens IDS | --text TEXT) -n N [--greedy] [--step-logits]", specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  if (!a.has("--n-predict")) throw UsageError("-n", "expected the number of tokens to generate");
  const int64_t n_gen = a.integer("--n-predict", 0, 0, int64_t{1} << 24);
  Runtime rt = open_runtime(a, false);
  if (a.has("--draft") || a.flag("--mtp-speculative"))
    throw Error(rt.model->path(), "--draft", "speculative decoding is not available for this model yet");
  std::vector<int32_t> prompt = prompt_ids(a, *rt.model);
  SamplerOptions so = sampling_options(a);
  if (a.flag("--greedy")) so.temperature = 0.0f;
  Sampler sampler(so);
  const bool step_logits = a.flag("--step-logits");
  const int32_t eos = rt.model->tokenizer() ? rt.model->tokenizer()->eos_id() : -1;
  const int64_t nv = rt.model->config().n_vocab;

  auto session = rt.new_session(a, static_cast<int64_t>(prompt.size()));
  if (static_cast<int64_t>(prompt.size()) + n_gen - 1 > session->capacity())
    throw Error(rt.model->path(), "context",
                std::to_string(prompt.size()) + " prompt + " + std::to_string(n_gen) +
                    " generated tokens exceed the context length " + std::to_string(session->capacity()) +
                    " (raise it with --ctx)");
  std::vector<int32_t> history = prompt, generated;
  std::vector<float> steps;
  const double t0 = now_seconds();
  const float* logits = session->eval(prompt, false);
  const double t1 = now_seconds();
  for (int64_t k = 0; k < n_gen; ++k) {
    if (step_logits) steps.insert(steps.end(), logits, logits + nv);
    int32_t next = sampler.sample(logits, nv, history);
    generated.push_back(next);
    history.push_back(next);
    if (a.flag("--stop-at-eos") && next == eos) break;
    if (k + 1 < n_gen) logits = session->eval(&next, 1, false);
  }
  const double t2 = now_seconds();
  std::string text;
  if (const Tokenizer* tok = rt.model->tokenizer()) text = tok->decode(generated);

  JsonWriter j;
  j.begin_object().key("prompt").ints(prompt).key("generated").ints(generated).key("text").value(text);
  if (step_logits) {
    j.key("step_logits").begin_array();
    for (size_t k = 0; k < generated.size(); ++k) j.floats(steps.data() + k * nv, nv);
    j.end_array();
  }
  j.end_object();
  write_json_output(a, j.str());
  std::fprintf(stderr, "moeinfer: prompt %zu tokens in %.3f s, generated %zu tokens in %.3f s (%.1f tok/s)\n",
               prompt.size(), t1 - t0, generated.size(), t2 - t1,
               generated.size() > 1 ? (generated.size() - 1) / (t2 - t1) : 0.0);
  return 0;
}

}  // namespace moeinfer
