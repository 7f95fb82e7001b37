#include "engine/expert_policy.h"

#include <cmath>

#include "base/error.h"

namespace moeinfer {

ExpertPolicy parse_expert_policy(const std::string& text, const std::string& option) {
  if (text == "lru") return ExpertPolicy::kLru;
  if (text == "lfu") return ExpertPolicy::kLfu;
  if (text == "predicted") return ExpertPolicy::kPredicted;
  throw UsageError(option, "expected lru, lfu or predicted, got '" + text + "'");
}

const char* expert_policy_name(ExpertPolicy p) {
  switch (p) {
    case ExpertPolicy::kLru: return "lru";
    case ExpertPolicy::kLfu: return "lfu";
    case ExpertPolicy::kPredicted: return "predicted";
  }
  return "?";
}

EvictionPolicy::EvictionPolicy(ExpertPolicy p, int64_t n_experts, double decay)
    : policy_(p),
      decay_(decay),
      last_use_(static_cast<size_t>(n_experts), 0),
      freq_(static_cast<size_t>(n_experts), 0.0),
      freq_step_(static_cast<size_t>(n_experts), 0),
      predicted_(static_cast<size_t>(n_experts), 0.0f) {}

void EvictionPolicy::step() { ++now_; }

double EvictionPolicy::decay_pow(uint64_t steps) const {
  return steps == 0 ? 1.0 : std::pow(decay_, static_cast<double>(steps));
}

double EvictionPolicy::frequency(int32_t x) const { return freq_[x] * decay_pow(now_ - freq_step_[x]); }

void EvictionPolicy::use(int32_t x) {
  if (last_use_[x] == now_ && now_ != 0) return;  // once per step
  freq_[x] = frequency(x) + 1.0;
  freq_step_[x] = now_;
  last_use_[x] = now_;
}

void EvictionPolicy::predict(const int32_t* ids, const float* likelihood, int64_t n) {
  for (float& p : predicted_) p = 0.0f;
  for (int64_t i = 0; i < n; ++i) predicted_[ids[i]] = likelihood[i];
}

double EvictionPolicy::keep_score(int32_t x) const {
  switch (policy_) {
    case ExpertPolicy::kLru: return static_cast<double>(last_use_[x]);
    case ExpertPolicy::kLfu: return frequency(x);
    case ExpertPolicy::kPredicted: {
      // The decayed frequency as a per-step rate (a steady state count is 1 / (1 - decay)).
      const double rate = frequency(x) * (1.0 - decay_);
      return predicted_[x] + rate;
    }
  }
  return 0.0;
}

int64_t EvictionPolicy::victim(const int32_t* candidates, int64_t n) const {
  int64_t best = 0;
  double best_score = keep_score(candidates[0]);
  for (int64_t i = 1; i < n; ++i) {
    const double sc = keep_score(candidates[i]);
    const int32_t x = candidates[i], b = candidates[best];
    if (sc < best_score || (sc == best_score && (last_use_[x] < last_use_[b] || (last_use_[x] == last_use_[b] && x < b)))) {
      best = i;
      best_score = sc;
    }
  }
  return best;
}

}  // namespace moeinfer
