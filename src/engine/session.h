// One sequence over a BatchRunner: the simple API the single-prompt commands, speculative decoding
// and the tests use. eval() feeds tokens at the current position (a prompt in chunks of up to
// max_batch, or one decode token) and returns their logits. No allocation happens inside a forward
// step; KV blocks are taken from the paged store as positions are first written.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "engine/batch_runner.h"
#include "kernels/dispatch.h"
#include "model/model.h"

namespace moeinfer {

struct SessionOptions {
  int64_t context = 0;     // positions a session may reach; 0 = the model's context length
  int64_t max_batch = 256; // prompt tokens per forward call
  int64_t spare_slots = 0;  // sliding windows: this many positions can be rolled back
  bool mla_absorbed = true; // MLA models: absorbed (latent cache) or naive (per-head K/V cache)
  ExpertSource* experts = nullptr;  // routed experts (an expert cache); nullptr = resident
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

  int64_t pos() const { return runner_.kv().length(seq_); }
  int64_t capacity() const { return runner_.context(); }  // positions this session may reach
  int64_t n_vocab() const { return runner_.n_vocab(); }
  int64_t dim() const { return runner_.model().config().dim; }
  void reset() { runner_.kv().set_length(seq_, 0); }
  const KvStore& kv() const { return runner_.kv(); }
  BatchRunner& runner() { return runner_; }

 private:
  BatchRunner runner_;
  int32_t seq_;
  Batch batch_;
  std::vector<float> logits_;
};

}  // namespace moeinfer
