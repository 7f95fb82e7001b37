// How many bytes of weights a model's views cover, routed experts apart from the rest (what an
// expert cache keeps on disk and what stays pinned). A matrix two views share counts once.
#pragma once
#include <cstdint>

#include "model/weights.h"

namespace moeinfer {

struct WeightBytes {
  uint64_t routed_experts = 0;  // every routed expert of every MoE layer (MTP blocks included)
  uint64_t pinned = 0;          // everything else: embeddings, attention, norms, routers, shared experts, head
  int64_t moe_layers = 0;       // main-model layers with routed experts
};

WeightBytes weight_bytes(const ModelWeights& w);

}  // namespace moeinfer
