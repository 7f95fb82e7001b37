// Sizes derived from a loaded model, shared by `info` and `bench`.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "model/model.h"
#include "model/transformer.h"

namespace moeinfer {

struct ModelStats {
  uint64_t n_params = 0;                     // elements of every tensor in the file
  std::map<std::string, uint64_t> bytes_by_dtype;  // dtype name -> bytes of tensor data
  std::map<std::string, uint64_t> params_by_dtype;
  uint64_t kv_bytes_per_token = 0;           // F32 cache bytes per token, all layers (MLA: absorbed latent)
  uint64_t kv_bytes_per_token_naive = 0;     // MLA only: the per-head K/V the latent cache replaces
  int64_t kv_max_tokens = 0;                 // entries the cache ever holds (the window, if any)
  // Parameters a token touches: everything except the unused rows of the token-embedding table
  // (one row is read) and the routed experts it is not sent to (all but top-k per MoE layer).
  // With tied embeddings the table is the output head and counts in full.
  uint64_t active_params_per_token = 0;
  // Bytes of weights one decode step reads: every bound weight once (MoE: top-k experts), the
  // embedding table only when it doubles as the output head.
  uint64_t weight_bytes_per_token = 0;
};

ModelStats compute_stats(const Model& m);

}  // namespace moeinfer
