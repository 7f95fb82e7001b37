// Draft-and-verify decoding. A Drafter proposes tokens; the main model checks the last emitted
// token plus the drafts in one batched forward; the longest accepted prefix is kept, the first
// rejected position is replaced by the main model's own choice, and the main cache is rolled
// back past it. Greedy: a draft is accepted iff it equals the main model's argmax, so the output
// is identical to plain greedy decoding. Sampling: the standard speculative-sampling rule (accept
// d with probability min(1, p(d)/q(d)), else draw from max(0, p - q) normalized), so the output
// distribution is the main model's.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/mtp_runner.h"
#include "engine/sampler.h"
#include "engine/session.h"

namespace moeinfer {

class Drafter {
 public:
  virtual ~Drafter() = default;
  virtual const char* kind() const = 0;
  // After the prompt prefill: the prompt, the main model's hidden states for it [P][dim], and the
  // first generated token (emitted, not yet fed).
  virtual void start(const std::vector<int32_t>& prompt, const float* hidden, int32_t first) = 0;
  // Up to max_n tokens to follow the last emitted token. q (when not null) receives one dense
  // draft distribution per token; left empty for deterministic drafters (a one-hot q).
  virtual void propose(int64_t max_n, std::vector<int32_t>* draft, std::vector<std::vector<float>>* q) = 0;
  // The verified step: fed[0..m] are now final at their positions (the last emitted token and the
  // m accepted drafts), hidden [m+1][dim] their hidden states, and next the token emitted after.
  virtual void commit(const int32_t* fed, const float* hidden, int64_t m_plus_1, int32_t next) = 0;
};

// DeepSeek-V3's MTP module as a one-token drafter.
std::unique_ptr<Drafter> make_mtp_drafter(MtpRunner& runner, Sampler& sampler, int64_t n_vocab);
// Prompt lookup: the tokens that followed the latest earlier occurrence of the current suffix
// (n-grams of 3, 2, then 1 tokens). Works for every architecture.
std::unique_ptr<Drafter> make_ngram_drafter();

struct DraftStats {
  std::string kind;
  int64_t drafted = 0, accepted = 0, forwards = 0, emitted = 0;
  double acceptance_rate() const { return drafted ? static_cast<double>(accepted) / drafted : 0.0; }
  double tokens_per_forward() const { return forwards ? static_cast<double>(emitted) / forwards : 0.0; }
};

struct SpeculativeOptions {
  int64_t n_gen = 0;
  int64_t max_draft = 1;
  bool stop_at_eos = false;
  int32_t eos = -1;
  std::vector<float>* step_logits = nullptr;  // optional: the logits row that chose each token
  std::function<void(int32_t)> on_token;       // optional: called for each emitted token, in order
};

// Generates after `prompt` (not yet fed to `main`). Returns the emitted tokens.
std::vector<int32_t> speculative_generate(Session& main, Drafter& drafter, Sampler& sampler,
                                          const std::vector<int32_t>& prompt, const SpeculativeOptions& o,
                                          DraftStats* stats);

}  // namespace moeinfer
