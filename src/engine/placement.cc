#include "engine/placement.h"

#include <algorithm>

#include "base/error.h"
#include "engine/expert_cache.h"
#include "model/transformer.h"
#include "model/weight_bytes.h"

namespace moeinfer {

namespace {

constexpr uint64_t kOverhead = uint64_t{192} << 20;  // code, heap, thread stacks, activations

uint64_t kv_bytes(const Model& m, const PlacementRequest& r) {
  int64_t k_dim = 0, v_dim = 0;
  kv_cache_dims(m.config(), r.mla_absorbed, &k_dim, &v_dim);
  return static_cast<uint64_t>(std::max<int64_t>(r.kv_positions, 0)) * static_cast<uint64_t>(m.config().n_layers) *
         static_cast<uint64_t>(k_dim + v_dim) * sizeof(float);
}

}  // namespace

std::string Placement::describe(const char* policy) const {
  std::string s = "memory budget " + format_size(budget) + " (" + source + "): ";
  if (!cache) return s + "everything resident (" + format_size(pinned_bytes + expert_bytes) + " of weights)";
  return s + "pinned " + format_size(pinned_bytes) + ", expert cache " + std::to_string(moe_layers) + " layers x " +
         std::to_string(slots) + " of " + std::to_string(n_experts) + " slots (" + format_size(cache_bytes) + " of " +
         format_size(expert_bytes) + " experts), policy " + policy + ", reserve " + format_size(reserve_bytes);
}

Placement plan_placement(const Model& model, const PlacementRequest& r) {
  Placement p;
  const WeightBytes wb = weight_bytes(model.weights());
  p.budget = r.budget.bytes;
  p.source = r.budget.source;
  p.pinned_bytes = wb.pinned;
  p.expert_bytes = wb.routed_experts;
  p.moe_layers = wb.moe_layers;
  p.n_experts = model.config().moe ? model.config().moe->n_experts : 0;
  p.reserve_bytes = kv_bytes(model, r) + kOverhead;
  const bool moe = p.moe_layers > 0 && p.n_experts > 0;
  if (!moe && r.expert_slots > 0)
    throw UsageError("--expert-slots", "the model has no routed experts to cache");
  if (!moe || (r.expert_slots == 0 && p.pinned_bytes + p.expert_bytes + p.reserve_bytes <= p.budget)) return p;
  p.reserve_bytes += ExpertCache::staging_bytes(model, r.io_threads);
  const uint64_t slot = ExpertCache::slot_bytes(model) * static_cast<uint64_t>(p.moe_layers);
  if (r.expert_slots > 0) {
    p.cache = true;
    p.slots = std::min(r.expert_slots, p.n_experts);
    p.cache_bytes = slot * static_cast<uint64_t>(p.slots);
    return p;
  }
  const uint64_t fixed = p.pinned_bytes + p.reserve_bytes;
  if (fixed + slot > p.budget)
    throw Error(model.path(), "--mem-budget",
                "the memory budget of " + format_size(p.budget) + " (" + std::to_string(p.budget) + " bytes; " + p.source +
                    ") is below what must stay in memory: pinned weights " + format_size(p.pinned_bytes) + " (" +
                    std::to_string(p.pinned_bytes) + " bytes) plus a reserve of " + format_size(p.reserve_bytes) +
                    " for the KV store and scratch plus one expert slot per layer (" + format_size(slot) + ")");
  p.slots = std::min<int64_t>(static_cast<int64_t>((p.budget - fixed) / slot), p.n_experts);
  if (p.slots >= p.n_experts) {  // every expert fits after all (the staging reserve tipped it)
    p.slots = 0;
    return p;
  }
  p.cache = true;
  p.cache_bytes = slot * static_cast<uint64_t>(p.slots);
  return p;
}

}  // namespace moeinfer
