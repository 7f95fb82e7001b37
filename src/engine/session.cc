#include "engine/session.h"

#include <algorithm>

#include "base/error.h"

namespace moeinfer {

namespace {
RunnerOptions runner_options(const SessionOptions& o) {
  RunnerOptions r;
  r.context = o.context;
  r.max_batch = std::max<int64_t>(1, o.max_batch);
  r.max_seqs = 1;
  r.keep_extra = o.spare_slots;
  r.mla_absorbed = o.mla_absorbed;
  r.experts = o.experts;
  return r;
}
}  // namespace

Session::Session(const Model& model, const Kernels& kernels, ThreadPool& pool, const SessionOptions& opts)
    : runner_(model, kernels, pool, runner_options(opts)),
      seq_(runner_.kv().add_sequence()),
      logits_(static_cast<size_t>(std::max<int64_t>(1, opts.max_batch)) * model.config().n_vocab) {}

void Session::rollback(int64_t pos) {
  if (pos < 0 || pos > this->pos()) throw Error(runner_.model().path(), "rollback", "position outside [0, current]");
  runner_.kv().set_length(seq_, pos);
}

const float* Session::eval(const int32_t* tokens, int64_t n, bool all_logits, float* hidden) {
  const ModelConfig& c = runner_.model().config();
  if (n <= 0) throw Error(runner_.model().path(), "tokens", "expected at least one token");
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab)
      throw Error(runner_.model().path(), "tokens",
                  "token id " + std::to_string(tokens[i]) + " is outside the vocabulary [0, " +
                      std::to_string(c.n_vocab) + ")");
  const int64_t pos0 = pos();
  if (pos0 + n > capacity())
    throw Error(runner_.model().path(), "context",
                std::to_string(pos0 + n) + " tokens exceed the context length of " + std::to_string(capacity()));
  const size_t need = static_cast<size_t>(all_logits ? n : 1) * c.n_vocab;
  if (logits_.size() < need) logits_.resize(need);  // only grows for an all-logits call beyond max_batch
  for (int64_t done = 0; done < n;) {
    const int64_t b = std::min(runner_.max_batch(), n - done);
    const bool last = done + b == n;
    // Chunks before the last need no logits unless every position's are wanted.
    batch_.clear();
    for (int64_t i = 0; i < b; ++i) batch_.add(tokens[done + i], pos0 + done + i, seq_, all_logits || (last && i == b - 1));
    runner_.run(batch_, all_logits ? logits_.data() + done * c.n_vocab : logits_.data(),
                hidden ? hidden + done * c.dim : nullptr);
    done += b;
  }
  return logits_.data();
}

}  // namespace moeinfer
