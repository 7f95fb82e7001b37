#include "engine/speculative.h"

#include <algorithm>

#include "base/error.h"

namespace moeinfer {

namespace {

class MtpDrafter : public Drafter {
 public:
  MtpDrafter(MtpRunner& r, Sampler& s, int64_t n_vocab) : runner_(r), sampler_(s), n_vocab_(n_vocab) {}
  const char* kind() const override { return "mtp"; }

  void start(const std::vector<int32_t>& prompt, const float* hidden, int32_t first) override {
    std::vector<int32_t> next(prompt.begin() + 1, prompt.end());
    next.push_back(first);
    history_ = prompt;
    history_.push_back(first);
    const float* l = runner_.eval(hidden, next.data(), static_cast<int64_t>(next.size()));
    choose(l + (next.size() - 1) * n_vocab_);
  }

  void propose(int64_t max_n, std::vector<int32_t>* draft, std::vector<std::vector<float>>* q) override {
    draft->clear();
    if (q) q->clear();
    if (max_n <= 0) return;
    draft->push_back(draft_);
    if (q && !sampler_.greedy()) q->push_back(q_);
  }

  void commit(const int32_t* fed, const float* hidden, int64_t m1, int32_t next) override {
    // MTP position i takes (h_i, token i+1): the tokens after fed[0..m] are fed[1..m], next.
    std::vector<int32_t> nexts(fed + 1, fed + m1);
    nexts.push_back(next);
    history_.insert(history_.end(), fed + 1, fed + m1);
    history_.push_back(next);
    const float* l = runner_.eval(hidden, nexts.data(), m1);
    choose(l + (m1 - 1) * n_vocab_);
  }

 private:
  void choose(const float* logits) {
    if (sampler_.greedy()) {
      draft_ = argmax(logits, n_vocab_);
      return;
    }
    sampler_.probabilities(logits, n_vocab_, history_, &q_);
    draft_ = sampler_.draw(q_);
  }
  MtpRunner& runner_;
  Sampler& sampler_;
  int64_t n_vocab_;
  int32_t draft_ = 0;
  std::vector<float> q_;
  std::vector<int32_t> history_;
};

class NgramDrafter : public Drafter {
 public:
  const char* kind() const override { return "ngram"; }
  void start(const std::vector<int32_t>& prompt, const float*, int32_t first) override {
    history_ = prompt;
    history_.push_back(first);
  }
  void propose(int64_t max_n, std::vector<int32_t>* draft, std::vector<std::vector<float>>* q) override {
    draft->clear();
    if (q) q->clear();
    const int64_t h = static_cast<int64_t>(history_.size());
    for (int64_t n = std::min<int64_t>(3, h - 1); n >= 1 && draft->empty(); --n) {
      // latest earlier occurrence of the last n tokens
      for (int64_t start = h - n - 1; start >= 0; --start) {
        if (!std::equal(history_.begin() + start, history_.begin() + start + n, history_.end() - n)) continue;
        for (int64_t k = start + n; k < h && static_cast<int64_t>(draft->size()) < max_n; ++k)
          draft->push_back(history_[k]);
        break;
      }
    }
  }
  void commit(const int32_t* fed, const float*, int64_t m1, int32_t next) override {
    history_.insert(history_.end(), fed + 1, fed + m1);
    history_.push_back(next);
  }

 private:
  std::vector<int32_t> history_;
};

}  // namespace

std::unique_ptr<Drafter> make_mtp_drafter(MtpRunner& runner, Sampler& sampler, int64_t n_vocab) {
  return std::make_unique<MtpDrafter>(runner, sampler, n_vocab);
}
std::unique_ptr<Drafter> make_ngram_drafter() { return std::make_unique<NgramDrafter>(); }

std::vector<int32_t> speculative_generate(Session& main, Drafter& drafter, Sampler& sampler,
                                          const std::vector<int32_t>& prompt, const SpeculativeOptions& o,
                                          DraftStats* stats) {
  const int64_t nv = main.n_vocab(), dim = main.dim();
  std::vector<int32_t> out, history = prompt;
  stats->kind = drafter.kind();
  if (o.n_gen <= 0) return out;
  const int64_t P = static_cast<int64_t>(prompt.size());
  std::vector<float> hidden(static_cast<size_t>(std::max<int64_t>(P, o.max_draft + 1) * dim));
  const float* logits = main.eval(prompt.data(), P, false, hidden.data());
  auto emit = [&](int32_t tok, const float* row) {
    out.push_back(tok);
    history.push_back(tok);
    ++stats->emitted;
    if (o.step_logits) o.step_logits->insert(o.step_logits->end(), row, row + nv);
    if (o.on_token) o.on_token(tok);
    return static_cast<int64_t>(out.size()) >= o.n_gen || (o.stop_at_eos && tok == o.eos);
  };
  const int32_t first = sampler.sample(logits, nv, history);
  const bool stop = emit(first, logits);
  stats->emitted = 0;  // tokens per forward counts the verify forwards only
  if (stop) return out;
  drafter.start(prompt, hidden.data(), first);

  std::vector<int32_t> draft, fed;
  std::vector<std::vector<float>> q;
  std::vector<float> p;
  for (;;) {
    const int64_t pos0 = main.pos();
    const int64_t room = std::min(o.max_draft, main.capacity() - pos0 - 1);
    drafter.propose(std::max<int64_t>(0, std::min(room, o.n_gen - static_cast<int64_t>(out.size()))), &draft, &q);
    fed.assign(1, out.back());
    fed.insert(fed.end(), draft.begin(), draft.end());
    const int64_t k = static_cast<int64_t>(draft.size());
    const float* rows = main.eval(fed.data(), k + 1, true, hidden.data());
    ++stats->forwards;
    stats->drafted += k;
    int64_t m = 0;
    int32_t next = -1;
    bool done = false;
    for (; m < k; ++m) {
      const float* row = rows + m * nv;
      const int32_t d = draft[m];
      bool ok;
      if (sampler.greedy()) {
        ok = sampler.sample(row, nv, history) == d;
        if (!ok) next = sampler.sample(row, nv, history);
      } else {
        sampler.probabilities(row, nv, history, &p);
        const float qd = q.empty() ? 1.0f : q[m][d];
        ok = qd > 0.0f && sampler.uniform() < std::min(1.0, static_cast<double>(p[d]) / qd);
        if (!ok) {  // residual distribution max(0, p - q)
          for (int64_t i = 0; i < nv; ++i) p[i] = std::max(0.0f, p[i] - (q.empty() ? (i == d ? 1.0f : 0.0f) : q[m][i]));
          double mass = 0.0;
          for (float v : p) mass += v;
          if (mass <= 0.0) sampler.probabilities(row, nv, history, &p);
          next = sampler.draw(p);
        }
      }
      if (!ok) break;
      ++stats->accepted;
      if ((done = emit(d, row))) break;
    }
    if (done) return out;
    const float* last = rows + m * nv;
    if (next < 0) next = sampler.sample(last, nv, history);  // every draft accepted: the bonus token
    main.rollback(pos0 + m + 1);
    if (emit(next, last)) return out;
    drafter.commit(fed.data(), hidden.data(), m + 1, next);
  }
}

}  // namespace moeinfer
