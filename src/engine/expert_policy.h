// Which cached expert to evict: the bookkeeping of one MoE layer's slots, apart from any I/O so
// that it can be tested on scripted traces.
//  - lru: the expert used longest ago.
//  - lfu: the lowest use count, each count decaying by `decay` per step of the layer (an expert
//    popular long ago fades), ties to the one used longest ago.
//  - predicted: the lowest likelihood of being needed soon: the predictor's latest probability
//    for this layer (ExpertSource::prefetch) plus the decayed frequency, normalized, as a prior;
//    ties to the one used longest ago.
// A "step" is one acquire of the layer (one forward pass through it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace moeinfer {

enum class ExpertPolicy { kLru, kLfu, kPredicted };

// "lru", "lfu", "predicted"; throws UsageError(option, ...) otherwise.
ExpertPolicy parse_expert_policy(const std::string& text, const std::string& option);
const char* expert_policy_name(ExpertPolicy p);

class EvictionPolicy {
 public:
  EvictionPolicy(ExpertPolicy p, int64_t n_experts, double decay = 0.9);

  // A new step of the layer begins (before its uses).
  void step();
  // Expert x was used in the current step.
  void use(int32_t x);
  // The predictor's probabilities for the layer's next step: likelihood[i] for ids[i]; experts
  // not listed get 0.
  void predict(const int32_t* ids, const float* likelihood, int64_t n);
  // Among candidates[0..n) (resident, evictable experts), the index of the one to evict.
  int64_t victim(const int32_t* candidates, int64_t n) const;
  // The policy's current estimate of how likely x is to be needed soon (higher = keep).
  double keep_score(int32_t x) const;

 private:
  ExpertPolicy policy_;
  double decay_;
  uint64_t now_ = 0;
  std::vector<uint64_t> last_use_;  // step of the last use (0 = never)
  std::vector<double> freq_;        // decayed use count as of step freq_step_[x]
  std::vector<uint64_t> freq_step_;
  std::vector<float> predicted_;
  double decay_pow(uint64_t steps) const;
  double frequency(int32_t x) const;
};

}  // namespace moeinfer
