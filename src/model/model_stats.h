// Sizes derived from a loaded model, shared by `info` and `bench`.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "model/model.h"

namespace moeinfer {

struct ModelStats {
  uint64_t n_params = 0;                     // elements of every tensor in the file
  std::map<std::string, uint64_t> bytes_by_dtype;  // dtype name -> bytes of tensor data
  std::map<std::string, uint64_t> params_by_dtype;
  uint64_t kv_bytes_per_token = 0;           // F32 K and V, all layers
  int64_t kv_max_tokens = 0;                 // entries the cache ever holds (the window, if any)
  // Parameters a token touches: everything except the unused rows of the token-embedding table
  // (one row is read). With tied embeddings the table is the output head and counts in full.
  uint64_t active_params_per_token = 0;
  // Bytes of weights one decode step reads: every matrix and norm, plus one embedding row.
  uint64_t weight_bytes_per_token = 0;
};

ModelStats compute_stats(const Model& m);

}  // namespace moeinfer
