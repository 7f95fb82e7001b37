// moeinfer generate -m MODEL (--tokens IDS | --text TEXT | --jsonl FILE) -n N [--greedy] [--step-logits]
//   -> {"prompt":[...],"generated":[...],"text":"..."} on one line per prompt.
// The prompt is prefilled in batches; every further token is decoded one at a time through the
// KV cache. Greedy = argmax with the lowest id winning ties; no stop at EOS unless --stop-at-eos.
// With --jsonl every line is a prompt ({"text": ...} or {"tokens": [...]}, optional "n"); they run
// as parallel sequences (at most --parallel at a time) and print in input order.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sampling_options.h"
#include "engine/generator.h"
#include "engine/sampler.h"
#include "engine/speculative.h"

namespace moeinfer {

namespace {

struct JsonlPrompt {
  std::vector<int32_t> ids;
  int64_t n = 0;
  int64_t line = 0;  // in the file, for errors
};

// Lines of {"text": "..."} or {"tokens": [ids]} with an optional "n"; blank lines are skipped.
std::vector<JsonlPrompt> read_jsonl_prompts(const std::string& path, const Model& m, const Tokenizer* tok,
                                            int64_t default_n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "cannot open");
  std::vector<JsonlPrompt> out;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "line " + std::to_string(lineno);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      throw Error(path, where, "expected a JSON object");
    }
    if (!j.is_object()) throw Error(path, where, "expected a JSON object");
    const bool has_text = j.contains("text"), has_tokens = j.contains("tokens");
    if (has_text == has_tokens) throw Error(path, where, "expected exactly one of \"text\" and \"tokens\"");
    JsonlPrompt p;
    p.line = lineno;
    if (has_text) {
      if (!j["text"].is_string()) throw Error(path, where + ": text", "expected a string");
      if (!tok) throw Error(path, where + ": text", "the model has no tokenizer; use \"tokens\"");
      p.ids = tok->encode(j["text"].get<std::string>(), /*add_special=*/true, /*parse_special=*/true);
      if (p.ids.empty()) throw Error(path, where + ": text", "the text gives no tokens");
    } else {
      const nlohmann::json& t = j["tokens"];
      if (!t.is_array() || t.empty()) throw Error(path, where + ": tokens", "expected a non-empty array of token ids");
      for (const auto& v : t) {
        if (!v.is_number_integer()) throw Error(path, where + ": tokens", "expected integer token ids");
        const int64_t id = v.get<int64_t>();
        if (id < 0 || id >= m.config().n_vocab)
          throw Error(path, where + ": tokens",
                      "token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                          std::to_string(m.config().n_vocab) + ")");
        p.ids.push_back(static_cast<int32_t>(id));
      }
    }
    p.n = default_n;
    if (j.contains("n")) {
      if (!j["n"].is_number_integer() || j["n"].get<int64_t>() < 0 || j["n"].get<int64_t>() > (int64_t{1} << 24))
        throw Error(path, where + ": n", "expected a non-negative integer");
      p.n = j["n"].get<int64_t>();
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) throw Error(path, "", "expected at least one prompt line");
  return out;
}

std::string result_json(const std::vector<int32_t>& prompt, const GenResult& r, const Tokenizer* tok, int64_t nv,
                        bool step_logits) {
  JsonWriter j;
  j.begin_object().key("prompt").ints(prompt).key("generated").ints(r.generated);
  j.key("text").value(tok ? continuation_text(*tok, r.generated) : std::string());
  if (step_logits) {
    j.key("step_logits").begin_array();
    for (size_t k = 0; k < r.generated.size(); ++k) j.floats(r.step_logits.data() + k * nv, nv);
    j.end_array();
  }
  j.end_object();
  return j.str();
}

// The model's end-of-generation ids (--stop-at-eos stops at any of them).
std::vector<int32_t> eog_ids(const Tokenizer* tok) { return tok ? tok->eog_ids() : std::vector<int32_t>{}; }

// --jsonl: every line's prompt as a parallel sequence; one output line per prompt, in order.
int generate_jsonl(const Args& a, Runtime& rt, const SamplerOptions& so) {
  const Model& m = *rt.model;
  const int64_t default_n = a.has("--n-predict") ? a.integer("--n-predict", 16, 0, int64_t{1} << 24) : 16;
  const std::vector<JsonlPrompt> prompts = read_jsonl_prompts(a.str("--jsonl"), m, rt.tokenizer.get(), default_n);
  const int64_t parallel = a.integer("--parallel", 4, 1, 1024);
  auto runner = rt.new_runner(a, 256, std::min<int64_t>(parallel, static_cast<int64_t>(prompts.size())));
  for (size_t i = 0; i < prompts.size(); ++i)
    if (static_cast<int64_t>(prompts[i].ids.size()) + std::max<int64_t>(prompts[i].n, 1) - 1 > runner->context())
      throw Error(a.str("--jsonl"), "line " + std::to_string(prompts[i].line),
                  std::to_string(prompts[i].ids.size()) + " prompt + " + std::to_string(prompts[i].n) +
                      " generated tokens exceed the context length " + std::to_string(runner->context()) +
                      " (raise it with --ctx)");
  GeneratorOptions go;
  go.max_parallel = parallel;
  Generator gen(*runner, go);
  const bool step_logits = a.flag("--step-logits");
  for (const JsonlPrompt& p : prompts) {
    GenRequest r;
    r.prompt = p.ids;
    r.n_predict = p.n;
    r.sampling = so;
    r.stop_at_eog = a.flag("--stop-at-eos");
    r.eog = eog_ids(rt.tokenizer.get());
    r.step_logits = step_logits;
    gen.add(std::move(r));
  }
  const double t0 = now_seconds();
  const bool interrupted = run_until_interrupted(gen);
  const double t1 = now_seconds();
  int64_t total = 0;
  if (interrupted) {
    for (size_t i = 0; i < prompts.size(); ++i) total += static_cast<int64_t>(gen.result(static_cast<int64_t>(i)).generated.size());
    std::fprintf(stderr, "moeinfer: interrupted: %lld tokens generated in %.3f s (%.1f tok/s); no output written\n",
                 static_cast<long long>(total), t1 - t0, total / std::max(t1 - t0, 1e-9));
    return 130;
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    const GenResult& r = gen.result(static_cast<int64_t>(i));
    if (r.finish == FinishReason::kError)
      throw Error(a.str("--jsonl"), "line " + std::to_string(prompts[i].line), r.error);
    total += static_cast<int64_t>(r.generated.size());
  }
  std::string out;
  for (size_t i = 0; i < prompts.size(); ++i)
    out += result_json(prompts[i].ids, gen.result(static_cast<int64_t>(i)), rt.tokenizer.get(), m.config().n_vocab,
                       step_logits) + (i + 1 < prompts.size() ? "\n" : "");
  write_json_output(a, out);
  std::fprintf(stderr, "moeinfer: %zu prompts, %lld sequences at a time: %lld tokens generated in %.3f s (%.1f tok/s), %lld forward passes\n",
               prompts.size(), static_cast<long long>(parallel), static_cast<long long>(total), t1 - t0,
               total / std::max(t1 - t0, 1e-9), static_cast<long long>(gen.forwards()));
  return 0;
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model: a .gguf file or a Hugging Face model directory"},
      {"--tokens", "", "IDS", "prompt token ids, fed exactly as given"},
      {"--text", "", "TEXT", "prompt text (BOS added as the tokenizer says)"},
      {"--jsonl", "", "FILE", "many prompts: one JSON object per line, {\"text\": ...} or {\"tokens\": [ids]}, "
                              "optional \"n\"; they run as parallel sequences, one output line each, in order"},
      {"--parallel", "", "P", "with --jsonl: sequences run together (default 4)"},
      {"--n-predict", "-n", "N", "tokens to generate (required; with --jsonl a line's \"n\" wins, default 16)"},
      {"--greedy", "", "", "argmax decoding (same as --temp 0)"},
      {"--step-logits", "", "", "also output the logits that chose each generated token"},
      {"--stop-at-eos", "", "", "stop when an end-of-generation token (EOS, EOT, EOM; config eos_token_id) is generated"},
      {"--draft", "", "KIND", "speculative decoding with a drafter: mtp (DeepSeek-V3 MTP module) or ngram"},
      {"--mtp-speculative", "", "", "same as --draft mtp"},
      {"--draft-max", "", "N", "most tokens drafted per step (default: 1 for mtp, 4 for ngram)"},
      {"--output", "-o", "FILE", "write the JSON here instead of stdout"},
  };
  for (auto& o : sampling_option_specs()) specs.push_back(o);
  for (auto& o : model_run_options()) specs.push_back(o);
  Args a("generate", "-m MODEL (--tokens IDS | --text TEXT | --jsonl FILE) -n N [--greedy] [--step-logits]", specs,
         argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  if (a.has("--jsonl")) {
    if (a.has("--tokens") || a.has("--text")) throw UsageError("--jsonl", "conflicts with --tokens and --text");
    if (a.has("--draft") || a.flag("--mtp-speculative")) throw UsageError("--jsonl", "does not combine with --draft");
    SamplerOptions so = sampling_options(a);
    if (a.flag("--greedy")) so.temperature = 0.0f;
    Runtime rt = open_runtime(a, false);
    return generate_jsonl(a, rt, so);
  }
  if (a.has("--parallel")) throw UsageError("--parallel", "applies to --jsonl only");
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
  std::vector<int32_t> prompt = prompt_ids(a, *rt.model, rt.tokenizer.get());
  SamplerOptions so = sampling_options(a);
  if (a.flag("--greedy")) so.temperature = 0.0f;
  Sampler sampler(so);
  const bool step_logits = a.flag("--step-logits");
  const int32_t eos = rt.tokenizer ? rt.tokenizer->eos_id() : -1;
  const int64_t nv = rt.model->config().n_vocab;

  // Speculative decoding drives one Session; plain generation runs through the Generator.
  std::unique_ptr<Session> session;
  std::unique_ptr<BatchRunner> plain;
  if (!draft_kind.empty())
    session = rt.new_session(a, std::max<int64_t>(static_cast<int64_t>(prompt.size()), max_draft + 1), max_draft);
  else
    plain = rt.new_runner(a, std::max<int64_t>(static_cast<int64_t>(prompt.size()), 1), 1);
  const int64_t capacity = session ? session->capacity() : plain->context();
  if (static_cast<int64_t>(prompt.size()) + n_gen - 1 > capacity)
    throw Error(rt.model->path(), "context",
                std::to_string(prompt.size()) + " prompt + " + std::to_string(n_gen) +
                    " generated tokens exceed the context length " + std::to_string(capacity) +
                    " (raise it with --ctx)");
  std::vector<int32_t> generated;
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
    Generator gen(*plain, GeneratorOptions{1});
    GenRequest r;
    r.prompt = prompt;
    r.n_predict = n_gen;
    r.sampling = so;
    r.stop_at_eog = a.flag("--stop-at-eos");
    r.eog = eog_ids(rt.tokenizer.get());
    r.step_logits = step_logits;
    gen.add(std::move(r));
    if (run_until_interrupted(gen)) {
      const double t = now_seconds() - t0;
      const size_t n = gen.result(0).generated.size();
      std::fprintf(stderr, "moeinfer: interrupted: %zu tokens generated in %.3f s (%.1f tok/s); no output written\n", n, t,
                   static_cast<double>(n) / std::max(t, 1e-9));
      return 130;
    }
    const GenResult& res = gen.result(0);
    if (res.finish == FinishReason::kError) throw Error(rt.model->path(), "generate", res.error);
    generated = res.generated;
    steps = res.step_logits;
    t1 = res.prefill_end > 0 ? res.prefill_end : t0;
  }
  const double t2 = now_seconds();
  std::string text;
  if (const Tokenizer* tok = rt.tokenizer.get()) text = continuation_text(*tok, generated);

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
