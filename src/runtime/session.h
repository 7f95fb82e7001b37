// A generation session over one model: the KV cache, the run state and the current position.
// eval() feeds tokens (a prompt in batches of up to max_batch, or one decode token) and returns
// their logits. No allocation happens inside a forward step.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "model/transformer.h"
#include "runtime/kv_cache.h"

namespace moeinfer {

struct SessionOptions {
  int64_t context = 0;     // positions a session may reach; 0 = the model's context length
  int64_t max_batch = 256; // prompt tokens per forward call
  int64_t spare_slots = 0;  // rolling caches: extra slots so that this many positions can be rolled back
  bool mla_absorbed = true; // MLA models: absorbed (latent cache) or naive (per-head K/V cache)
};

class Session {
 public:
  Session(const Model& model, const Kernels& kernels, ThreadPool& pool, const SessionOptions& opts = {});

  // Feeds n tokens at the current position. Returns [n][n_vocab] logits when all_logits, else
  // [1][n_vocab] for the last token; valid until the next call. Throws Error for ids outside the
  // vocabulary or a context overflow.
  // hidden (optional): [n][dim] receives each token's final hidden state after the output norm.
  const float* eval(const int32_t* tokens, int64_t n, bool all_logits, float* hidden = nullptr);
  const float* eval(const std::vector<int32_t>& tokens, bool all_logits) {
    return eval(tokens.data(), static_cast<int64_t>(tokens.size()), all_logits);
  }
  // Forgets every position >= pos (speculative decoding's rejected drafts); their cache rows are
  // overwritten by the next eval.
  void rollback(int64_t pos);

  int64_t pos() const { return pos_; }
  int64_t capacity() const { return cache_.context(); }  // positions this session may reach
  int64_t n_vocab() const { return model_.config().n_vocab; }
  int64_t dim() const { return model_.config().dim; }
  void reset() { pos_ = 0; }
  const KvCache& cache() const { return cache_; }

 private:
  const Model& model_;
  ForwardContext ctx_;
  KvCache cache_;
  RunState state_;
  std::vector<float> logits_;
  int64_t pos_ = 0;
};

}  // namespace moeinfer
