// DeepSeek expert routing (model.py Gate.forward), as a pure function over one token's scores.
//  1. s = sigmoid(logits) or softmax(logits) over all routed experts (done by the caller).
//  2. selection scores s_sel = s + bias (when the router has a bias).
//  3. group score: sum of the top-2 s_sel of each group with a bias; the max without one.
//  4. keep the topk_group best groups; experts of the other groups get -inf.
//  5. choose the top_k experts by s_sel.
//  6. weights = s (unbiased) of the chosen experts; divided by their sum when norm_topk_prob;
//  7. then always times routed_scaling_factor.
// Ties (equal values) resolve to the lower index, for groups and for experts.
#pragma once
#include <cstdint>

#include "model/config.h"

namespace moeinfer {

// scores: [n_experts] after sigmoid/softmax; bias: [n_experts] or nullptr.
// Writes top_k expert ids (in selection order: best first) and weights. scratch: [3 * n_experts].
// The config is validated so that top_k experts always remain after group masking.
void route_experts(const MoeConfig& c, const float* scores, const float* bias, int32_t* ids, float* weights,
                   float* scratch);

// Cache-aware routing (lossy; ExpertSource::routing_tolerance): each chosen expert ids[j] with
// !resident(ids[j]) is replaced by the resident expert, not already chosen, with the highest
// selection score (scores + bias) that is at least the replaced one's minus `tolerance`, when
// there is one; group limits are not re-applied. The weights are then recomputed from the
// unbiased scores as route_experts does. Returns the number of experts replaced.
template <typename Resident>
int64_t substitute_resident(const MoeConfig& c, const float* scores, const float* bias, float tolerance,
                            const Resident& resident, int32_t* ids, float* weights) {
  const int64_t k = c.n_experts_per_tok;
  int64_t replaced = 0;
  auto sel = [&](int64_t x) { return bias ? scores[x] + bias[x] : scores[x]; };
  for (int64_t j = 0; j < k; ++j) {
    if (resident(ids[j])) continue;
    int64_t best = -1;
    for (int64_t x = 0; x < c.n_experts; ++x) {
      bool taken = false;
      for (int64_t i = 0; i < k; ++i) taken = taken || ids[i] == x;
      if (taken || !resident(static_cast<int32_t>(x)) || sel(x) < sel(ids[j]) - tolerance) continue;
      if (best < 0 || sel(x) > sel(best)) best = x;
    }
    if (best >= 0) {
      ids[j] = static_cast<int32_t>(best);
      ++replaced;
    }
  }
  if (replaced == 0) return 0;
  float sum = 0.0f;
  for (int64_t j = 0; j < k; ++j) sum += (weights[j] = scores[ids[j]]);
  for (int64_t j = 0; j < k; ++j) {
    if (c.norm_topk_prob) weights[j] /= sum;
    weights[j] *= c.routed_scaling_factor;
  }
  return replaced;
}

}  // namespace moeinfer
