#include "runtime/mtp_runner.h"

#include <algorithm>

#include "base/error.h"

namespace moeinfer {

namespace {
KvCache mtp_cache(const Model& m, int64_t context, bool absorbed) {
  int64_t k_dim, v_dim;
  kv_cache_dims(m.config(), absorbed, &k_dim, &v_dim);
  return KvCache(1, context, k_dim, v_dim, 0);
}
const Model& require_mtp(const Model& m) {
  if (m.config().n_mtp_layers <= 0)
    throw Error(m.path(), "num_nextn_predict_layers", "the model has no multi-token-prediction (MTP) module");
  if (m.weights().mtp.empty())
    throw Error(m.path(), "mtp", "the MTP weights were not loaded");
  return m;
}
}  // namespace

MtpRunner::MtpRunner(const Model& model, const Kernels& kernels, ThreadPool& pool, int64_t context, int64_t max_batch,
                     bool mla_absorbed)
    : model_(require_mtp(model)),
      ctx_{kernels, pool, mla_absorbed},
      cache_(mtp_cache(model, context, mla_absorbed)),
      state_(model.config(), std::max<int64_t>(1, max_batch), context, pool.size()),
      mtp_state_(model.config(), std::max<int64_t>(1, max_batch)),
      logits_(static_cast<size_t>(std::max<int64_t>(1, max_batch) * model.config().n_vocab)),
      max_batch_(std::max<int64_t>(1, max_batch)) {}

const float* MtpRunner::eval(const float* hidden, const int32_t* next_tokens, int64_t n) {
  const ModelConfig& c = model_.config();
  if (pos_ + n > cache_.context())
    throw Error(model_.path(), "context", "MTP positions exceed the context length " + std::to_string(cache_.context()));
  if (static_cast<int64_t>(logits_.size()) < n * c.n_vocab) logits_.resize(static_cast<size_t>(n * c.n_vocab));
  for (int64_t done = 0; done < n;) {
    const int64_t b = std::min(max_batch_, n - done);
    mtp_forward(ctx_, c, model_.weights().mtp[0], cache_, state_, mtp_state_, hidden + done * c.dim,
                next_tokens + done, b, pos_, logits_.data() + done * c.n_vocab);
    pos_ += b;
    done += b;
  }
  return logits_.data();
}

}  // namespace moeinfer
