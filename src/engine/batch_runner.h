// Runs batches of many sequences through a model: owns the paged KV store, the run state and the
// expert source, and checks each batch against the sequences' state before the forward pass.
// Who owns the sequences (a CLI loop, the server's scheduler) lives above; this class only runs
// what it is given.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "engine/batch.h"
#include "engine/kv_store.h"
#include "kernels/dispatch.h"
#include "model/expert_source.h"
#include "model/model.h"
#include "model/transformer.h"

namespace moeinfer {

struct RunnerOptions {
  int64_t context = 0;      // most positions a sequence may reach (0 = the model's context length)
  int64_t max_batch = 256;  // rows per forward pass
  int64_t max_seqs = 1;     // sequences live together (sizes the default KV budget)
  int64_t keep_extra = 0;   // sliding windows: positions kept beyond the window for rollback
  bool mla_absorbed = true; // MLA models: absorbed (latent cache) or naive (per-head K/V cache)
  uint64_t kv_bytes = 0;    // KV pool bound; 0 = max_seqs sequences of `context` positions
  int64_t block_size = 64;  // KV positions per block
  ExpertSource* experts = nullptr;  // routed experts (shared, e.g. an expert cache); nullptr = resident
};

class BatchRunner {
 public:
  BatchRunner(const Model& model, const Kernels& kernels, ThreadPool& pool, const RunnerOptions& o);

  // Runs b (at most max_batch rows). Every sequence's rows must start at its current length and be
  // consecutive; positions must stay below context(). KV blocks are reserved for every row first:
  // when the pool is exhausted a KvFullError names the sequence and nothing runs. Token ids outside
  // the vocabulary are an Error. Returns logits [b.n_out()][n_vocab] in row order (written to
  // logits_out when given, else to an internal buffer valid until the next run).
  // hidden (optional): [b.size()][dim] final hidden states after the output norm.
  const float* run(const Batch& b, float* logits_out = nullptr, float* hidden = nullptr);

  KvStore& kv() { return *kv_; }
  const KvStore& kv() const { return *kv_; }
  const Model& model() const { return model_; }
  int64_t context() const { return context_; }
  int64_t max_batch() const { return state_.max_batch; }
  int64_t n_vocab() const { return model_.config().n_vocab; }
  ExpertSource& experts() { return *experts_; }

 private:
  const Model& model_;
  std::unique_ptr<ExpertSource> own_experts_;  // the resident views, unless RunnerOptions::experts
  ExpertSource* experts_;
  ForwardContext ctx_;
  int64_t context_;
  std::unique_ptr<KvStore> kv_;
  RunState state_;
  std::vector<float> logits_;
};

// The KV store layout a model needs (row sizes from kv_cache_dims).
KvStoreOptions kv_store_options(const ModelConfig& c, const RunnerOptions& o, int64_t n_layers, int64_t context);

}  // namespace moeinfer
