#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moeinfer {

int32_t argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplerOptions& o) : o_(o) {
  uint64_t z = o.seed;
  for (uint64_t& s : s_) {  // splitmix64 seeding
    z += 0x9e3779b97f4a7c15ULL;
    uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    s = x ^ (x >> 31);
  }
}

uint64_t Sampler::next() {  // xoshiro256**
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Sampler::uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

int32_t Sampler::sample(const float* logits, int64_t n, const std::vector<int32_t>& history) {
  work_.assign(logits, logits + n);
  const bool penalties = o_.repeat_penalty != 1.0f || o_.presence_penalty != 0.0f || o_.frequency_penalty != 0.0f;
  if (penalties && o_.repeat_last_n != 0) {
    size_t start = o_.repeat_last_n < 0 || history.size() < static_cast<size_t>(o_.repeat_last_n)
                       ? 0
                       : history.size() - o_.repeat_last_n;
    seen_.assign(history.begin() + static_cast<int64_t>(start), history.end());
    std::sort(seen_.begin(), seen_.end());
    for (size_t i = 0; i < seen_.size();) {
      size_t j = i;
      while (j < seen_.size() && seen_[j] == seen_[i]) ++j;
      const int32_t id = seen_[i];
      const float count = static_cast<float>(j - i);
      i = j;
      if (id < 0 || id >= n) continue;
      float& v = work_[id];
      if (o_.repeat_penalty != 1.0f) v = v > 0 ? v / o_.repeat_penalty : v * o_.repeat_penalty;
      v -= o_.frequency_penalty * count + o_.presence_penalty;
    }
  }
  if (o_.temperature <= 0.0f) return argmax(work_.data(), n);

  // Candidates sorted by logit, descending (ties: lower id first).
  ids_.resize(n);
  std::iota(ids_.begin(), ids_.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  int64_t k = n;
  if (o_.top_k > 0 && o_.top_k < n) {
    k = o_.top_k;
    std::partial_sort(ids_.begin(), ids_.begin() + k, ids_.end(), by_logit);
  } else {
    std::sort(ids_.begin(), ids_.end(), by_logit);
  }
  // Probabilities of the kept candidates (before temperature, as llama.cpp's top-p/min-p see them).
  std::vector<double> p(k);
  const double mx = work_[ids_[0]];
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) sum += p[i] = std::exp(static_cast<double>(work_[ids_[i]]) - mx);
  if (o_.top_p < 1.0f) {
    double cum = 0.0;
    for (int64_t i = 0; i < k; ++i) {
      cum += p[i] / sum;
      if (cum >= o_.top_p) {
        k = i + 1;
        break;
      }
    }
  }
  if (o_.min_p > 0.0f) {
    // keep tokens with p >= min_p * p_max; p[0] is the max (unnormalized 1)
    int64_t keep = 1;
    while (keep < k && p[keep] >= o_.min_p * p[0]) ++keep;
    k = keep;
  }
  // Temperature, then draw.
  double total = 0.0;
  for (int64_t i = 0; i < k; ++i) total += p[i] = std::exp((static_cast<double>(work_[ids_[i]]) - mx) / o_.temperature);
  kept_ = k;
  kept_p_.assign(p.begin(), p.begin() + k);
  kept_total_ = total;
  double r = uniform() * total;
  for (int64_t i = 0; i < k; ++i) {
    r -= p[i];
    if (r < 0.0) return ids_[i];
  }
  return ids_[k - 1];
}

void Sampler::probabilities(const float* logits, int64_t n, const std::vector<int32_t>& history,
                            std::vector<float>* p) {
  p->assign(static_cast<size_t>(n), 0.0f);
  if (greedy()) {
    // the penalty applies before the argmax, as in sample()
    Sampler copy(*this);
    (*p)[copy.sample(logits, n, history)] = 1.0f;
    return;
  }
  // Run the filter chain without consuming this sampler's random stream.
  Sampler copy(*this);
  copy.sample(logits, n, history);
  for (int64_t i = 0; i < copy.kept_; ++i)
    (*p)[copy.ids_[i]] = static_cast<float>(copy.kept_p_[i] / copy.kept_total_);
}

int32_t Sampler::draw(const std::vector<float>& p) {
  double total = 0.0;
  for (float v : p) total += v;
  double r = uniform() * total;
  int32_t last = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0.0f) continue;
    last = static_cast<int32_t>(i);
    r -= p[i];
    if (r < 0.0) return last;
  }
  return last;
}

}  // namespace moeinfer
