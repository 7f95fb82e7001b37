#include "runtime/session.h"

#include <algorithm>

#include "base/error.h"

namespace moeinfer {

namespace {
int64_t context_of(const Model& m, const SessionOptions& o) {
  return o.context > 0 ? o.context : m.config().context_length;
}

KvCache make_cache(const Model& m, const SessionOptions& o) {
  int64_t k_dim, v_dim;
  kv_cache_dims(m.config(), o.mla_absorbed, &k_dim, &v_dim);
  const int64_t window = m.config().attn.sliding_window;
  return KvCache(m.config().n_layers, context_of(m, o), k_dim, v_dim, window > 0 ? window + o.spare_slots : 0);
}
}  // namespace

Session::Session(const Model& model, const Kernels& kernels, ThreadPool& pool, const SessionOptions& opts)
    : model_(model),
      ctx_{kernels, pool, opts.mla_absorbed},
      cache_(make_cache(model, opts)),
      state_(model.config(), std::max<int64_t>(1, opts.max_batch), context_of(model, opts), pool.size()),
      logits_(static_cast<size_t>(std::max<int64_t>(1, opts.max_batch)) * model.config().n_vocab) {}

void Session::rollback(int64_t pos) {
  if (pos < 0 || pos > pos_) throw Error(model_.path(), "rollback", "position outside [0, current]");
  pos_ = pos;
}

const float* Session::eval(const int32_t* tokens, int64_t n, bool all_logits, float* hidden) {
  const ModelConfig& c = model_.config();
  if (n <= 0) throw Error(model_.path(), "tokens", "expected at least one token");
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= c.n_vocab)
      throw Error(model_.path(), "tokens",
                  "token id " + std::to_string(tokens[i]) + " is outside the vocabulary [0, " +
                      std::to_string(c.n_vocab) + ")");
  if (pos_ + n > cache_.context())
    throw Error(model_.path(), "context",
                std::to_string(pos_ + n) + " tokens exceed the context length of " + std::to_string(cache_.context()));
  const size_t need = static_cast<size_t>(all_logits ? n : 1) * c.n_vocab;
  if (logits_.size() < need) logits_.resize(need);  // only grows for an all-logits call beyond max_batch
  for (int64_t done = 0; done < n;) {
    const int64_t b = std::min(state_.max_batch, n - done);
    const bool last = done + b == n;
    // Chunks before the last need no logits unless every position's are wanted.
    float* out = all_logits ? logits_.data() + done * c.n_vocab : last ? logits_.data() : nullptr;
    forward(ctx_, c, model_.weights(), cache_, state_, tokens + done, b, pos_, all_logits, out,
            hidden ? hidden + done * c.dim : nullptr);
    pos_ += b;
    done += b;
  }
  return logits_.data();
}

}  // namespace moeinfer
