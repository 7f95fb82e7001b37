#include "model/blocks/routing.h"

#include <cmath>
#include <limits>

namespace moeinfer {

namespace {

// Index of the largest value among n (lowest index wins ties); skips entries equal to -inf only
// when every entry is -inf (then returns the first).
int64_t argmax_lowest(const float* v, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

}  // namespace

void route_experts(const MoeConfig& c, const float* scores, const float* bias, int32_t* ids, float* weights,
                   float* scratch) {
  const int64_t n = c.n_experts, per_group = n / c.n_group;
  const float ninf = -std::numeric_limits<float>::infinity();
  float* sel = scratch;         // [n] selection scores
  float* group = scratch + n;   // [n_group] group scores (fits: n_group <= n)
  for (int64_t e = 0; e < n; ++e) sel[e] = bias ? scores[e] + bias[e] : scores[e];

  if (c.n_group > 1) {
    for (int64_t g = 0; g < c.n_group; ++g) {
      const float* s = sel + g * per_group;
      if (bias) {
        // sum of the two largest (topk(2).sum(); a group of one counts its single score)
        const int64_t a = argmax_lowest(s, per_group);
        float second = ninf;
        for (int64_t i = 0; i < per_group; ++i)
          if (i != a && s[i] > second) second = s[i];
        group[g] = per_group > 1 ? s[a] + second : s[a];
      } else {
        group[g] = s[argmax_lowest(s, per_group)];
      }
    }
    // keep the topk_group best groups (ties: lower group index); mask the experts of the others
    float* kept = scratch + 2 * n;  // [n_group] 1 = kept
    for (int64_t g = 0; g < c.n_group; ++g) kept[g] = 0.0f;
    for (int64_t k = 0; k < c.topk_group; ++k) {
      int64_t best = -1;
      for (int64_t g = 0; g < c.n_group; ++g)
        if (kept[g] == 0.0f && (best < 0 || group[g] > group[best])) best = g;
      kept[best] = 1.0f;
    }
    for (int64_t g = 0; g < c.n_group; ++g)
      if (kept[g] == 0.0f)
        for (int64_t i = 0; i < per_group; ++i) sel[g * per_group + i] = ninf;
  }

  // top_k by selection score, best first, lowest index on ties
  for (int64_t k = 0; k < c.n_experts_per_tok; ++k) {
    int64_t best = -1;
    for (int64_t e = 0; e < n; ++e) {
      if (sel[e] == ninf) continue;  // masked group or already taken
      if (best < 0 || sel[e] > sel[best]) best = e;
    }
    ids[k] = static_cast<int32_t>(best);
    weights[k] = scores[best];
    sel[best] = ninf;  // taken
  }
  if (c.norm_topk_prob) {
    float sum = 0.0f;
    for (int64_t k = 0; k < c.n_experts_per_tok; ++k) sum += weights[k];
    for (int64_t k = 0; k < c.n_experts_per_tok; ++k) weights[k] /= sum;
  }
  for (int64_t k = 0; k < c.n_experts_per_tok; ++k) weights[k] *= c.routed_scaling_factor;
}

}  // namespace moeinfer
