// Where a model's weights live under a memory budget (base/mem_budget.h):
//  - resident: every weight in memory (mapped, repacked where that pays), as long as the pinned
//    weights, all routed experts and the reserve fit the budget;
//  - expert cache: everything but the routed experts pinned; the experts in slots
//    (engine/expert_cache.h), as many per MoE layer as the rest of the budget holds.
// The reserve covers what a run allocates besides weights: the KV store for the positions the run
// is expected to reach, activations and scratch, the I/O threads' staging buffers.
// --expert-slots N forces the cache with N slots per layer (tests, experiments).
#pragma once
#include <cstdint>
#include <string>

#include "base/mem_budget.h"
#include "engine/expert_policy.h"
#include "model/model.h"

namespace moeinfer {

struct PlacementRequest {
  MemBudget budget;
  int64_t expert_slots = 0;      // > 0: the cache with this many slots per layer
  int64_t kv_positions = 4096;   // positions the KV store is reserved for (all sequences)
  bool mla_absorbed = true;
  int io_threads = 4;
};

struct Placement {
  bool cache = false;             // routed experts in an expert cache
  int64_t slots = 0;              // per MoE layer, when cache
  uint64_t budget = 0;
  uint64_t pinned_bytes = 0;      // weights other than routed experts
  uint64_t expert_bytes = 0;      // all routed experts
  uint64_t reserve_bytes = 0;     // KV, scratch, staging
  uint64_t cache_bytes = 0;       // the slots, when cache
  int64_t moe_layers = 0, n_experts = 0;
  std::string source;             // where the budget came from
  // "memory budget 3.75 GiB (cgroup limit ...): pinned 812 MiB, expert cache 26 layers x 24 of 64
  // slots (2.95 GiB of 7.88 GiB experts)" or "...: everything resident (8.90 GiB)".
  std::string describe(const char* policy) const;
};

// Throws Error when the budget cannot hold the pinned weights and the reserve (both sizes given).
Placement plan_placement(const Model& model, const PlacementRequest& r);

}  // namespace moeinfer
