// Runs a model's MTP module over its own KV cache, position by position, fed with the main
// model's hidden states and the true next tokens (see model/mtp.h).
#pragma once
#include <memory>
#include <vector>

#include "model/model.h"
#include "model/mtp.h"
#include "engine/batch.h"
#include "engine/kv_store.h"
#include "model/expert_source.h"

namespace moeinfer {

class MtpRunner {
 public:
  // Throws Error when the model was loaded without MTP weights (LoadOptions::load_mtp) or has none.
  MtpRunner(const Model& model, const Kernels& kernels, ThreadPool& pool, int64_t context, int64_t max_batch,
            bool mla_absorbed);

  // Rows for positions pos() .. pos()+n-1: hidden [n][dim] (main model, after its output norm) and
  // next_tokens [n] (the token at each position + 1). Returns logits [n][n_vocab].
  const float* eval(const float* hidden, const int32_t* next_tokens, int64_t n);
  int64_t pos() const { return kv_.length(seq_); }
  void rollback(int64_t pos) { kv_.set_length(seq_, pos < this->pos() ? pos : this->pos()); }

 private:
  const Model& model_;
  ResidentExperts experts_;
  ForwardContext ctx_;
  int64_t context_;
  KvStore kv_;
  int32_t seq_;
  Batch batch_;
  RunState state_;
  MtpState mtp_state_;
  std::vector<float> logits_;
  int64_t max_batch_;
};

}  // namespace moeinfer
