#include "engine/mtp_runner.h"

#include <algorithm>

#include "base/error.h"
#include "engine/batch_runner.h"

namespace moeinfer {

namespace {
KvStoreOptions mtp_store(const Model& m, int64_t context, bool absorbed) {
  RunnerOptions o;
  o.mla_absorbed = absorbed;
  return kv_store_options(m.config(), o, /*n_layers=*/1, context);
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
      experts_(model.weights()),
      ctx_{kernels, pool, mla_absorbed, &experts_},
      context_(context),
      kv_(mtp_store(model, context, mla_absorbed)),
      seq_(kv_.add_sequence()),
      state_(model.config(), std::max<int64_t>(1, max_batch), context, pool.size()),
      mtp_state_(model.config(), std::max<int64_t>(1, max_batch)),
      logits_(static_cast<size_t>(std::max<int64_t>(1, max_batch) * model.config().n_vocab)),
      max_batch_(std::max<int64_t>(1, max_batch)) {}

const float* MtpRunner::eval(const float* hidden, const int32_t* next_tokens, int64_t n) {
  const ModelConfig& c = model_.config();
  const int64_t pos0 = pos();
  if (pos0 + n > context_)
    throw Error(model_.path(), "context", "MTP positions exceed the context length " + std::to_string(context_));
  if (static_cast<int64_t>(logits_.size()) < n * c.n_vocab) logits_.resize(static_cast<size_t>(n * c.n_vocab));
  for (int64_t done = 0; done < n;) {
    const int64_t b = std::min(max_batch_, n - done);
    batch_.clear();
    for (int64_t i = 0; i < b; ++i) batch_.add(next_tokens[done + i], pos0 + done + i, seq_, true);
    kv_.reserve(seq_, pos0 + done + b);
    mtp_forward(ctx_, c, model_.weights().mtp[0], kv_.view(), state_, mtp_state_, hidden + done * c.dim,
                batch_.view(), logits_.data() + done * c.n_vocab);
    kv_.set_length(seq_, pos0 + done + b);
    done += b;
  }
  return logits_.data();
}

}  // namespace moeinfer
