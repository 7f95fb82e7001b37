// Runs a model's MTP module over its own KV cache, position by position, fed with the main
// model's hidden states and the true next tokens (see model/mtp.h).
#pragma once
#include <memory>
#include <vector>

#include "model/model.h"
#include "model/mtp.h"
#include "runtime/kv_cache.h"

namespace moeinfer {

class MtpRunner {
 public:
  // Throws Error when the model was loaded without MTP weights (LoadOptions::load_mtp) or has none.
  MtpRunner(const Model& model, const Kernels& kernels, ThreadPool& pool, int64_t context, int64_t max_batch,
            bool mla_absorbed);

  // Rows for positions pos() .. pos()+n-1: hidden [n][dim] (main model, after its output norm) and
  // next_tokens [n] (the token at each position + 1). Returns logits [n][n_vocab].
  const float* eval(const float* hidden, const int32_t* next_tokens, int64_t n);
  int64_t pos() const { return pos_; }
  void rollback(int64_t pos) { pos_ = pos < pos_ ? pos : pos_; }

 private:
  const Model& model_;
  ForwardContext ctx_;
  KvCache cache_;
  RunState state_;
  MtpState mtp_state_;
  std::vector<float> logits_;
  int64_t max_batch_;
  int64_t pos_ = 0;
};

}  // namespace moeinfer
