// Log-probabilities of sampled tokens for the API's logprobs: log-softmax of the model's logits
// row (before penalties, top-k/p or temperature), and the most likely alternatives.
#pragma once
#include <cstdint>
#include <vector>

namespace moeinfer {

struct TokenLogprob {
  int32_t id = -1;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // (id, logprob), most likely first
};

// Token `id` of a row of n logits, with the `top` most likely ids (ties: lower id first).
TokenLogprob token_logprob(const float* logits, int64_t n, int32_t id, int top);

}  // namespace moeinfer
