#include "engine/batch_runner.h"

#include <algorithm>

#include "base/error.h"

namespace moeinfer {

KvStoreOptions kv_store_options(const ModelConfig& c, const RunnerOptions& o, int64_t n_layers, int64_t context) {
  KvStoreOptions k;
  kv_cache_dims(c, o.mla_absorbed, &k.k_dim, &k.v_dim);
  k.n_layers = n_layers;
  k.block_size = std::max<int64_t>(1, o.block_size);
  k.window = c.attn.sliding_window;
  k.keep_extra = o.keep_extra;
  if (o.kv_bytes > 0) {
    k.max_bytes = o.kv_bytes;
  } else {  // every sequence at the full context (with a window: the window, a batch and the spare)
    const int64_t per_seq = k.window > 0 ? std::min(context, k.window + o.max_batch + o.keep_extra) : context;
    const uint64_t blocks = static_cast<uint64_t>((per_seq + k.block_size - 1) / k.block_size + 1);
    const uint64_t block_bytes =
        static_cast<uint64_t>(n_layers) * k.block_size * (k.k_dim + k.v_dim) * sizeof(float) + 64;
    k.max_bytes = blocks * block_bytes * static_cast<uint64_t>(std::max<int64_t>(1, o.max_seqs));
  }
  return k;
}

namespace {
int64_t context_of(const Model& m, const RunnerOptions& o) {
  return o.context > 0 ? o.context : m.config().context_length;
}
}  // namespace

BatchRunner::BatchRunner(const Model& model, const Kernels& kernels, ThreadPool& pool, const RunnerOptions& o)
    : model_(model),
      own_experts_(o.experts ? nullptr : std::make_unique<ResidentExperts>(model.weights())),
      experts_(o.experts ? o.experts : own_experts_.get()),
      ctx_{kernels, pool, o.mla_absorbed, experts_},
      context_(context_of(model, o)),
      kv_(std::make_unique<KvStore>(kv_store_options(model.config(), o, model.config().n_layers, context_))),
      state_(model.config(), std::max<int64_t>(1, o.max_batch), context_, pool.size()) {}

const float* BatchRunner::run(const Batch& b, float* logits_out, float* hidden) {
  const ModelConfig& c = model_.config();
  const int64_t n = b.size();
  if (n <= 0) throw Error(model_.path(), "batch", "expected at least one token");
  if (n > state_.max_batch)
    throw Error(model_.path(), "batch", std::to_string(n) + " rows exceed the batch size " + std::to_string(state_.max_batch));
  // Check every row against its sequence: vocabulary, next position, context.
  for (int64_t i = 0; i < n; ++i) {
    const int32_t tok = b.token(i), seq = b.seq(i);
    if (tok < 0 || tok >= c.n_vocab)
      throw Error(model_.path(), "tokens",
                  "token id " + std::to_string(tok) + " is outside the vocabulary [0, " + std::to_string(c.n_vocab) + ")");
    if (!kv_->live(seq)) throw Error(model_.path(), "batch", "sequence " + std::to_string(seq) + " does not exist");
    const bool first_of_run = i == 0 || b.seq(i - 1) != seq;
    const int64_t want = first_of_run ? kv_->length(seq) : b.pos(i - 1) + 1;
    if (b.pos(i) != want)
      throw Error(model_.path(), "batch",
                  "sequence " + std::to_string(seq) + ": position " + std::to_string(b.pos(i)) + " given, " +
                      std::to_string(want) + " expected");
    if (b.pos(i) >= context_)
      throw Error(model_.path(), "context",
                  std::to_string(b.pos(i) + 1) + " tokens exceed the context length of " + std::to_string(context_));
    if (first_of_run && i > 0)
      for (int64_t j = 0; j < i; ++j)
        if (b.seq(j) == seq) throw Error(model_.path(), "batch", "a sequence's rows must be consecutive");
  }
  // Reserve each sequence's new positions (a failure names its sequence; nothing has run).
  for (int64_t i = 0; i < n; ++i)
    if (i + 1 == n || b.seq(i + 1) != b.seq(i)) kv_->reserve(b.seq(i), b.pos(i) + 1);
  float* out = logits_out;
  if (!out && b.n_out() > 0) {
    const size_t need = static_cast<size_t>(b.n_out() * c.n_vocab);
    if (logits_.size() < need) logits_.resize(need);
    out = logits_.data();
  }
  const KvView view = kv_->view();
  forward(ctx_, c, model_.weights(), view, state_, b.view(), out, hidden);
  for (int64_t i = 0; i < n; ++i)
    if (i + 1 == n || b.seq(i + 1) != b.seq(i)) kv_->set_length(b.seq(i), b.pos(i) + 1);
  return out;
}

}  // namespace moeinfer
