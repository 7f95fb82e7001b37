#include "server/logprobs.h"

#include <algorithm>
#include <cmath>

namespace moeinfer {

TokenLogprob token_logprob(const float* logits, int64_t n, int32_t id, int top) {
  float mx = logits[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  TokenLogprob r;
  r.id = id;
  r.logprob = static_cast<float>(logits[id] - lse);
  if (top > 0) {
    // a running top list: n is large, top is at most 20
    std::vector<int32_t> best;
    auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
    for (int64_t i = 0; i < n; ++i) {
      const int32_t c = static_cast<int32_t>(i);
      if (static_cast<int>(best.size()) == top && !better(c, best.back())) continue;
      auto pos = std::upper_bound(best.begin(), best.end(), c, better);
      best.insert(pos, c);
      if (static_cast<int>(best.size()) > top) best.pop_back();
    }
    for (int32_t b : best) r.top.emplace_back(b, static_cast<float>(logits[b] - lse));
  }
  return r;
}

}  // namespace moeinfer
