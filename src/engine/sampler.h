// Token sampling from a row of logits. Order of operations (llama.cpp's default chain):
//   repetition, presence and frequency penalties -> top-k -> top-p -> min-p -> temperature -> draw.
// temperature <= 0 (or greedy) is argmax with the lowest id winning ties. The RNG is a seeded
// 64-bit generator (splitmix64/xoshiro256**) defined here, so the same seed gives the same text
// on every platform.
#pragma once
#include <cstdint>
#include <vector>

namespace moeinfer {

struct SamplerOptions {
  float temperature = 0.8f;
  int top_k = 40;              // 0 = off
  float top_p = 0.95f;         // 1 = off
  float min_p = 0.05f;         // 0 = off
  float repeat_penalty = 1.0f; // 1 = off; divides positive logits, multiplies negative ones
  int repeat_last_n = 64;      // how many recent tokens the penalties look at (-1: all)
  // OpenAI's: subtract presence for each id seen in the window, frequency times its count
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;
};

// Argmax; the lowest index wins ties.
int32_t argmax(const float* logits, int64_t n);

class Sampler {
 public:
  explicit Sampler(const SamplerOptions& o);
  // history: tokens so far (for the repetition penalty).
  int32_t sample(const float* logits, int64_t n, const std::vector<int32_t>& history);
  // The distribution sample() draws from, dense over all n ids (zeros outside the kept set).
  // Greedy settings give a one-hot at the argmax.
  void probabilities(const float* logits, int64_t n, const std::vector<int32_t>& history, std::vector<float>* p);
  // Draws an id from a dense distribution (need not be normalized; must have positive mass).
  int32_t draw(const std::vector<float>& p);
  bool greedy() const { return o_.temperature <= 0.0f; }
  double uniform();  // [0, 1)

 private:
  uint64_t next();
  SamplerOptions o_;
  uint64_t s_[4];
  std::vector<float> work_;
  std::vector<int32_t> ids_;
  std::vector<int32_t> seen_;
  // The kept candidates of the last sample(): ids_[0..kept_) with unnormalized probabilities.
  int64_t kept_ = 0;
  std::vector<double> kept_p_;
  double kept_total_ = 1.0;
};

}  // namespace moeinfer
