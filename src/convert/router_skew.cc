#include "convert/router_skew.h"

#include <algorithm>
#include <cmath>

#include "model/blocks/routing.h"

namespace moeinfer {

namespace {

uint64_t mix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float normal(uint64_t* s) {
  const float u1 = (static_cast<float>(mix(s) >> 40) + 1.0f) * 0x1p-24f;
  const float u2 = static_cast<float>(mix(s) >> 40) * 0x1p-24f;
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.283185307179586f * u2);
}

}  // namespace

std::vector<double> zipf_target(const std::vector<int64_t>& rank, int64_t k, double s) {
  const size_t n = rank.size();
  std::vector<double> w(n), t(n, 0.0);
  for (size_t x = 0; x < n; ++x) w[x] = std::pow(static_cast<double>(rank[x]), -s);
  std::vector<bool> capped(n, false);
  double left = static_cast<double>(k);
  for (size_t round = 0; round <= n; ++round) {  // water-filling: cap at 1, spread the rest
    double sum = 0.0;
    for (size_t x = 0; x < n; ++x)
      if (!capped[x]) sum += w[x];
    bool changed = false;
    for (size_t x = 0; x < n; ++x)
      if (!capped[x] && left * w[x] / sum > 1.0) {
        capped[x] = true;
        t[x] = 1.0;
        left -= 1.0;
        changed = true;
      }
    if (!changed) {
      for (size_t x = 0; x < n; ++x)
        if (!capped[x]) t[x] = left * w[x] / sum;
      break;
    }
  }
  return t;
}

std::vector<int64_t> skew_ranking(int64_t n, uint64_t seed, int64_t layer) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[i] = i + 1;
  uint64_t st = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(layer) * 0xD1B54A32D192ED03ull + 1;
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[mix(&st) % static_cast<uint64_t>(i + 1)]);
  return perm;
}

std::vector<double> simulate_popularity(const MoeConfig& e, const std::vector<float>& bias, int64_t tokens,
                                        uint64_t seed) {
  const int64_t n = e.n_experts, k = e.n_experts_per_tok;
  std::vector<float> sc(n), scratch(3 * n), w(k);
  std::vector<int32_t> ids(k);
  std::vector<double> count(n, 0.0);
  uint64_t st = seed ^ 0x5DEECE66Dull;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t x = 0; x < n; ++x) sc[x] = normal(&st);
    if (e.scoring == MoeScoring::kSigmoid) {
      for (float& v : sc) v = 1.0f / (1.0f + std::exp(-v));
    } else {
      float mx = *std::max_element(sc.begin(), sc.end()), sum = 0.0f;
      for (float& v : sc) sum += (v = std::exp(v - mx));
      for (float& v : sc) v /= sum;
    }
    route_experts(e, sc.data(), bias.data(), ids.data(), w.data(), scratch.data());
    for (int32_t x : ids) count[x] += 1.0;
  }
  for (double& c : count) c /= static_cast<double>(tokens);
  return count;
}

std::vector<float> skew_router_bias(const MoeConfig& e, double s, uint64_t seed, int64_t layer) {
  const int64_t n = e.n_experts;
  const std::vector<double> target = zipf_target(skew_ranking(n, seed, layer), e.n_experts_per_tok, s);
  // Selection scores are probabilities (softmax, ~1/n each) or sigmoids (~0.5 +- 0.2): the bias
  // moves on that scale.
  const double scale = e.scoring == MoeScoring::kSigmoid ? 0.2 : 1.0 / static_cast<double>(n);
  std::vector<float> bias(static_cast<size_t>(n), 0.0f);
  for (int64_t x = 0; x < n; ++x) bias[x] = static_cast<float>(scale * std::log(std::max(target[x], 1e-4) * n / e.n_experts_per_tok));
  for (int iter = 0; iter < 60; ++iter) {
    const std::vector<double> got = simulate_popularity(e, bias, 1500, seed + static_cast<uint64_t>(iter));
    const double step = scale * (iter < 30 ? 0.8 : 0.4);
    for (int64_t x = 0; x < n; ++x) {
      const double g = std::max(got[x], 1e-4), want = std::max(target[x], 1e-4);
      bias[x] += static_cast<float>(step * std::clamp(std::log(want / g), -2.0, 2.0));
    }
  }
  return bias;
}

}  // namespace moeinfer
