// moeinfer generate -m MODEL (--tokens IDS | --text TEXT) -n N [--greedy] [--step-logits]
//   -> {"prompt":[...],"generated":[...],"text":"..."} on one line.
// The prompt is prefilled in one batch; every further token is decoded one at a time through the
// KV cache. Greedy = argmax with the lowest id winning ties; no stop at EOS unless --stop-at-eos.
#include <algorithm>
#include <cstdio>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sampling_options.h"
#include "runtime/sampler.h"
#include "runtime/speculative.h"

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
      {"--draft", "", "KIND", "speculative decoding with a drafter: mtp (DeepSeek-V3 MTP module) or ngram"},
      {"--mtp-speculative", "", "", "same as --draft mtp"},
      {"--draft-max", "", "N", "most tokens drafted per step (default: 1 for mtp, 4 for ngram)"},
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
  std::string draft_kind = a.str("--draft");
  if (a.flag("--mtp-speculative")) {
    if (!draft_kind.empty() && draft_kind != "mtp") throw UsageError("--mtp-speculative", "conflicts with --draft " + draft_kind);
    draft_kind = "mtp";
  }
  if (!draft_kind.empty() && draft_kind != "mtp" && draft_kind != "ngram")
    throw UsageError("--draft", "expected mtp or ngram, got '" + draft_kind + "'");
  const int64_t max_draft = a.integer("--draft-max", draft_kind == "ngram" ? 4 : 1, 1, 64);
  if (draft_kind == "mtp" && max_draft != 1) throw UsageError("--draft-max", "the MTP drafter proposes one token");
  Runtime rt = open_runtime(a, false, draft_kind == "mtp");
  std::vector<int32_t> prompt = prompt_ids(a, *rt.model);
  SamplerOptions so = sampling_options(a);
  if (a.flag("--greedy")) so.temperature = 0.0f;
  Sampler sampler(so);
  const bool step_logits = a.flag("--step-logits");
  const int32_t eos = rt.model->tokenizer() ? rt.model->tokenizer()->eos_id() : -1;
  const int64_t nv = rt.model->config().n_vocab;

  auto session = rt.new_session(a, std::max<int64_t>(static_cast<int64_t>(prompt.size()), max_draft + 1),
                                draft_kind.empty() ? 0 : max_draft);
  if (static_cast<int64_t>(prompt.size()) + n_gen - 1 > session->capacity())
    throw Error(rt.model->path(), "context",
                std::to_string(prompt.size()) + " prompt + " + std::to_string(n_gen) +
                    " generated tokens exceed the context length " + std::to_string(session->capacity()) +
                    " (raise it with --ctx)");
  std::vector<int32_t> history = prompt, generated;
  std::vector<float> steps;
  DraftStats stats;
  const double t0 = now_seconds();
  double t1 = t0;
  if (!draft_kind.empty()) {
    std::unique_ptr<MtpRunner> runner;
    std::unique_ptr<Drafter> drafter;
    if (draft_kind == "mtp") {
      runner = std::make_unique<MtpRunner>(*rt.model, *rt.kernels, *rt.pool, session->capacity(),
                                           std::max<int64_t>(static_cast<int64_t>(prompt.size()), 2),
                                           session_mla_absorbed(a));
      drafter = make_mtp_drafter(*runner, sampler, nv);
    } else {
      drafter = make_ngram_drafter();
    }
    SpeculativeOptions o;
    o.n_gen = n_gen;
    o.max_draft = max_draft;
    o.stop_at_eos = a.flag("--stop-at-eos");
    o.eos = eos;
    o.step_logits = step_logits ? &steps : nullptr;
    generated = speculative_generate(*session, *drafter, sampler, prompt, o, &stats);
  } else if (n_gen > 0) {
    const float* logits = session->eval(prompt, false);
    t1 = now_seconds();
    for (int64_t k = 0; k < n_gen; ++k) {
      if (step_logits) steps.insert(steps.end(), logits, logits + nv);
      int32_t next = sampler.sample(logits, nv, history);
      generated.push_back(next);
      history.push_back(next);
      if (a.flag("--stop-at-eos") && next == eos) break;
      if (k + 1 < n_gen) logits = session->eval(&next, 1, false);
    }
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
  if (!draft_kind.empty()) {
    j.key("draft").begin_object().key("kind").value(stats.kind).key("drafted").value(stats.drafted);
    j.key("accepted").value(stats.accepted).key("acceptance_rate").value(stats.acceptance_rate());
    j.key("tokens_per_forward").value(stats.tokens_per_forward()).key("forwards").value(stats.forwards);
    j.end_object();
  }
  j.end_object();
  write_json_output(a, j.str());
  if (draft_kind.empty()) {
    std::fprintf(stderr, "moeinfer: prompt %zu tokens in %.3f s, generated %zu tokens in %.3f s (%.1f tok/s)\n",
                 prompt.size(), t1 - t0, generated.size(), t2 - t1,
                 generated.size() > 1 ? (generated.size() - 1) / (t2 - t1) : 0.0);
  } else {
    std::fprintf(stderr,
                 "moeinfer: %s drafts: %lld drafted, %lld accepted (%.1f %%), %.2f tokens per main forward; "
                 "%zu tokens in %.3f s incl. prompt (%.1f tok/s)\n",
                 stats.kind.c_str(), static_cast<long long>(stats.drafted), static_cast<long long>(stats.accepted),
                 100.0 * stats.acceptance_rate(), stats.tokens_per_forward(), generated.size(), t2 - t0,
                 generated.size() / (t2 - t0));
  }
  return 0;
}

}  // namespace moeinfer
