// moeinfer run [-m MODEL] [-p TEXT] [-n N] [sampling options] [-t THREADS]
// Streams the prompt and the generated text to stdout as it is produced; load time and speeds go
// to stderr. Without -m it runs the shipped model (models/stories260K.gguf).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/error.h"
#include "chat/chat_template.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sampling_options.h"
#include "engine/mtp_runner.h"
#include "engine/generator.h"
#include "engine/sampler.h"
#include "engine/speculative.h"

namespace moeinfer {

int cmd_run(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model file (.gguf; default: the shipped models/stories260K.gguf)"},
      {"--prompt", "-p", "TEXT", "prompt (default: \"Once upon a time\"; - reads it from standard input)"},
      {"--file", "-f", "FILE", "read the prompt from FILE"},
      {"--n-predict", "-n", "N", "tokens to generate (default 128; stops early at end-of-sequence)"},
      {"--chat", "", "", "wrap the prompt in the model's chat template"},
      {"--stop", "", "TEXT", "also stop when the generated text contains TEXT (not printed)"},
      {"--draft", "", "KIND", "speculative decoding with a drafter: mtp (DeepSeek-V3 MTP module) or ngram"},
      {"--draft-max", "", "N", "most tokens drafted per step (default: 1 for mtp, 4 for ngram)"},
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
  const std::string draft_kind = a.str("--draft");
  if (!draft_kind.empty() && draft_kind != "mtp" && draft_kind != "ngram")
    throw UsageError("--draft", "expected mtp or ngram, got '" + draft_kind + "'");
  const int64_t max_draft = a.integer("--draft-max", draft_kind == "ngram" ? 4 : 1, 1, 64);
  if (draft_kind == "mtp" && max_draft != 1) throw UsageError("--draft-max", "the MTP drafter proposes one token");
  Runtime rt = open_runtime(a, true, draft_kind == "mtp");
  const Model& m = *rt.model;

  const Tokenizer* tok = rt.tokenizer.get();
  if (!tok) throw Error(m.path(), "tokenizer.ggml.model", "the model has no tokenizer; use `moeinfer generate --tokens`");
  std::string prompt = a.str("--prompt", "Once upon a time");
  if (a.has("--file") && a.has("--prompt")) throw UsageError("--file", "cannot be combined with --prompt");
  if (a.has("--file")) {
    prompt = read_text_file(a.str("--file"));
  } else if (prompt == "-") {
    prompt = read_stdin_text();
  } else if (!a.has("--prompt") && !isatty(0)) {
    struct stat st{};
    if (fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size > 0)))
      std::fprintf(stderr, "moeinfer: note: standard input is not read; use -p - to take the prompt from it\n");
  }
  if (prompt.empty()) throw UsageError(a.has("--file") ? "--file" : "--prompt", "the prompt is empty");
  std::vector<int32_t> ids;
  if (a.flag("--chat")) {
    // The model's own chat template around one user turn; the rendered text carries its special
    // tokens (BOS included), so it is encoded without adding any.
    const ChatTemplate tmpl = ChatTemplate::load(m.path());
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    messages.push_back({{"role", "user"}, {"content", prompt}});
    ids = tok->encode(tmpl.render(messages, /*add_generation_prompt=*/true), false, true);
  } else {
    ids = tok->encode(prompt, true, true);
  }
  if (ids.empty()) throw UsageError("--prompt", "the prompt gives no tokens");
  std::fprintf(stderr, "moeinfer: %s: %s, %lld layers, dim %lld, loaded in %.3f s; %d threads, %s kernels, seed %llu\n",
               m.path().c_str(), m.config().arch.c_str(), static_cast<long long>(m.config().n_layers),
               static_cast<long long>(m.config().dim), rt.load_seconds, rt.pool->size(),
               isa_name(rt.kernels->isa()), static_cast<unsigned long long>(so.seed));

  Sampler sampler(so);
  if (!a.flag("--chat")) stream_out(prompt);
  const double t0 = now_seconds();
  double t1 = t0;
  int64_t produced = 0;
  const int64_t nv = m.config().n_vocab;
  DraftStats stats;
  bool interrupted = false;
  if (!draft_kind.empty()) {
    auto session = rt.new_session(a, 256, max_draft);
    if (static_cast<int64_t>(ids.size()) + n_gen > session->capacity())
      std::fprintf(stderr, "moeinfer: note: generation stops at the context length %lld\n",
                   static_cast<long long>(session->capacity()));
    std::unique_ptr<MtpRunner> runner;
    std::unique_ptr<Drafter> drafter;
    if (draft_kind == "mtp") {
      runner = std::make_unique<MtpRunner>(m, *rt.kernels, *rt.pool, session->capacity(), 256, session_mla_absorbed(a));
      drafter = make_mtp_drafter(*runner, sampler, nv);
    } else {
      drafter = make_ngram_drafter();
    }
    SpeculativeOptions o;
    o.n_gen = std::min<int64_t>(n_gen, session->capacity() - static_cast<int64_t>(ids.size()));
    if (a.has("--stop")) throw UsageError("--stop", "does not combine with --draft yet");
    o.max_draft = max_draft;
    o.stop_at_eos = true;
    o.eos = tok->eos_id();
    o.on_token = [&](int32_t t) {
      if (t != tok->eos_id()) stream_out(tok->token_to_piece(t));
    };
    produced = static_cast<int64_t>(speculative_generate(*session, *drafter, sampler, ids, o, &stats).size());
  } else if (n_gen > 0) {
    auto runner = rt.new_runner(a, 256, 1);
    if (static_cast<int64_t>(ids.size()) + n_gen > runner->context())
      std::fprintf(stderr, "moeinfer: note: generation stops at the context length %lld\n",
                   static_cast<long long>(runner->context()));
    GeneratorOptions go;
    go.max_parallel = 1;
    go.tokenizer = tok;
    Generator gen(*runner, go);
    GenRequest r;
    r.prompt = ids;
    r.n_predict = n_gen;
    r.sampling = so;
    r.stop_at_eog = true;
    r.eog = tok->eog_ids();
    if (a.has("--stop")) r.stop = {a.str("--stop")};
    r.on_text = [](const std::string& text) { stream_out(text); };
    gen.add(std::move(r));
    interrupted = run_until_interrupted(gen);
    const GenResult& res = gen.result(0);
    if (res.finish == FinishReason::kError) throw Error(m.path(), "generate", res.error);
    produced = static_cast<int64_t>(res.generated.size()) - (res.finish == FinishReason::kStop ? 1 : 0);
    t1 = res.prefill_end > 0 ? res.prefill_end : t0;
  }
  const double t2 = now_seconds();
  stream_out("\n");
  if (!draft_kind.empty())
    std::fprintf(stderr,
                 "moeinfer: %s drafts: %lld drafted, %lld accepted (%.1f %%), %.2f tokens per main forward; "
                 "%lld tokens in %.1f ms incl. prompt (%.1f tok/s)\n",
                 stats.kind.c_str(), static_cast<long long>(stats.drafted), static_cast<long long>(stats.accepted),
                 100.0 * stats.acceptance_rate(), stats.tokens_per_forward(), static_cast<long long>(produced),
                 (t2 - t0) * 1e3, produced / (t2 - t0));
  else
  std::fprintf(stderr, "moeinfer: prompt: %zu tokens in %.1f ms (%.1f tok/s); generation: %lld tokens in %.1f ms (%.1f tok/s)\n",
               ids.size(), (t1 - t0) * 1e3, ids.size() / (t1 - t0), static_cast<long long>(produced),
               (t2 - t1) * 1e3, produced > 0 ? produced / (t2 - t1) : 0.0);
  if (interrupted) {
    std::fprintf(stderr, "moeinfer: interrupted\n");
    return 130;
  }
  return 0;
}

}  // namespace moeinfer
