// moeinfer run [-m MODEL] [-p TEXT] [-n N] [sampling options] [-t THREADS]
// Streams the prompt and the generated text to stdout as it is produced; load time and speeds go
// to stderr. Without -m it runs the shipped model (models/stories260K.gguf).
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sampling_options.h"
#include "runtime/sampler.h"

namespace moeinfer {

int cmd_run(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model file (.gguf; default: the shipped models/stories260K.gguf)"},
      {"--prompt", "-p", "TEXT", "prompt (default: \"Once upon a time\")"},
      {"--n-predict", "-n", "N", "tokens to generate (default 128; stops early at end-of-sequence)"},
      {"--chat", "", "", "wrap the prompt in the model's chat template"},
      {"--draft", "", "KIND", "speculative drafter (mtp|ngram; not available yet)"},
  };
  for (auto& o : sampling_option_specs()) specs.push_back(o);
  for (auto& o : model_run_options()) specs.push_back(o);
  Args a("run", "[-m MODEL] [-p TEXT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p M] [--seed S] [-t N]",
         specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  const int64_t n_gen = a.integer("--n-predict", 128, 0, int64_t{1} << 24);
  SamplerOptions so = sampling_options(a);
  Runtime rt = open_runtime(a, true);
  const Model& m = *rt.model;
  if (a.flag("--chat")) throw Error(m.path(), "--chat", "the model has no chat template");
  if (a.has("--draft")) throw Error(m.path(), "--draft", "speculative decoding is not available for this model yet");
  const Tokenizer* tok = m.tokenizer();
  if (!tok) throw Error(m.path(), "tokenizer.ggml.model", "the model has no tokenizer; use `moeinfer generate --tokens`");
  const std::string prompt = a.str("--prompt", "Once upon a time");
  std::vector<int32_t> ids = tok->encode(prompt, true, true);
  if (ids.empty()) throw UsageError("--prompt", "the prompt gives no tokens");
  std::fprintf(stderr, "moeinfer: %s: %s, %lld layers, dim %lld, loaded in %.3f s; %d threads, %s kernels, seed %llu\n",
               m.path().c_str(), m.config().arch.c_str(), static_cast<long long>(m.config().n_layers),
               static_cast<long long>(m.config().dim), rt.load_seconds, rt.pool->size(),
               isa_name(rt.kernels->isa()), static_cast<unsigned long long>(so.seed));

  auto session = rt.new_session(a);
  if (static_cast<int64_t>(ids.size()) + n_gen > session->capacity())
    std::fprintf(stderr, "moeinfer: note: generation stops at the context length %lld\n",
                 static_cast<long long>(session->capacity()));
  Sampler sampler(so);
  stream_out(prompt);
  std::vector<int32_t> history = ids;
  const double t0 = now_seconds();
  const float* logits = session->eval(ids, false);
  const double t1 = now_seconds();
  int64_t produced = 0;
  const int64_t nv = m.config().n_vocab;
  for (; produced < n_gen; ++produced) {
    int32_t next = sampler.sample(logits, nv, history);
    if (next == tok->eos_id()) break;
    stream_out(tok->token_to_piece(next));
    history.push_back(next);
    if (produced + 1 == n_gen || session->pos() >= session->capacity()) {
      ++produced;
      break;
    }
    logits = session->eval(&next, 1, false);
  }
  const double t2 = now_seconds();
  stream_out("\n");
  std::fprintf(stderr, "moeinfer: prompt: %zu tokens in %.1f ms (%.1f tok/s); generation: %lld tokens in %.1f ms (%.1f tok/s)\n",
               ids.size(), (t1 - t0) * 1e3, ids.size() / (t1 - t0), static_cast<long long>(produced),
               (t2 - t1) * 1e3, produced > 0 ? produced / (t2 - t1) : 0.0);
  return 0;
}

}  // namespace moeinfer
