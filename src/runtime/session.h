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
  bool mla_absorbed = true; // MLA models: absorbed (latent cache) or naive (per-head K/V cache)
};

class Session {
 public:
  Session(const Model& model, const Kernels& kernels, ThreadPool& pool, const SessionOptions& opts = {});

  // Feeds n tokens at the current position. Returns [n][n_vocab] logits when all_logits, else
  // [1][n_vocab] for the last token; valid until the next call. Throws Error for ids outside the
  // vocabulary or a context overflow.
  const float* eval(const int32_t* tokens, int64_t n, bool all_logits);
  const float* eval(const std::vector<int32_t>& tokens, bool all_logits) {
    return eval(tokens.data(), static_cast<int64_t>(tokens.size()), all_logits);
  }

  int64_t pos() const { return pos_; }
  int64_t capacity() const { return cache_.context(); }  // positions this session may reach
  int64_t n_vocab() const { return model_.config().n_vocab; }
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
