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

}  // namespace moeinfer
