// Sampler semantics: greedy ties, seeded determinism, and that each filter keeps exactly the
// candidates its definition says.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "engine/sampler.h"

namespace moeinfer {
namespace {

TEST(Sampler, GreedyLowestIdWinsTies) {
  const float l[] = {1.0f, 3.0f, 2.0f, 3.0f};
  EXPECT_EQ(argmax(l, 4), 1);
  SamplerOptions o;
  o.temperature = 0.0f;
  Sampler s(o);
  EXPECT_EQ(s.sample(l, 4, {}), 1);
}

TEST(Sampler, SameSeedSameDraws) {
  std::vector<float> l(100);
  for (int i = 0; i < 100; ++i) l[i] = std::sin(i * 0.7f);
  SamplerOptions o;
  o.temperature = 1.0f;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  o.seed = 1234;
  Sampler a(o), b(o);
  std::vector<int32_t> da, db;
  for (int i = 0; i < 200; ++i) {
    da.push_back(a.sample(l.data(), 100, {}));
    db.push_back(b.sample(l.data(), 100, {}));
  }
  EXPECT_EQ(da, db);
  o.seed = 1235;
  Sampler c(o);
  std::vector<int32_t> dc;
  for (int i = 0; i < 200; ++i) dc.push_back(c.sample(l.data(), 100, {}));
  EXPECT_NE(da, dc);
  EXPECT_GT(std::set<int32_t>(da.begin(), da.end()).size(), 10u);  // it really samples
}

std::set<int32_t> support(SamplerOptions o, const std::vector<float>& l, int draws = 3000) {
  Sampler s(o);
  std::set<int32_t> seen;
  for (int i = 0; i < draws; ++i) seen.insert(s.sample(l.data(), static_cast<int64_t>(l.size()), {}));
  return seen;
}

TEST(Sampler, TopKKeepsKBest) {
  std::vector<float> l = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  SamplerOptions o;
  o.temperature = 1.0f;
  o.top_k = 2;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  EXPECT_EQ(support(o, l), (std::set<int32_t>{4, 5}));
}

TEST(Sampler, TopPKeepsSmallestMassSet) {
  // probabilities 0.5, 0.25, 0.125, 0.125 (as logits of their logs)
  std::vector<float> l = {std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)};
  SamplerOptions o;
  o.temperature = 1.0f;
  o.top_k = 0;
  o.top_p = 0.7f;
  o.min_p = 0.0f;
  EXPECT_EQ(support(o, l), (std::set<int32_t>{0, 1}));
}

TEST(Sampler, MinPDropsUnlikely) {
  std::vector<float> l = {std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  SamplerOptions o;
  o.temperature = 1.0f;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.25f;  // keeps p >= 0.15
  EXPECT_EQ(support(o, l), (std::set<int32_t>{0, 1}));
}

TEST(Sampler, RepetitionPenaltyChangesGreedyChoice) {
  const float l[] = {2.0f, 1.9f, -1.0f};
  SamplerOptions o;
  o.temperature = 0.0f;
  o.repeat_penalty = 1.2f;  // 2.0 / 1.2 = 1.67 < 1.9
  Sampler s(o);
  EXPECT_EQ(s.sample(l, 3, {0}), 1);
  EXPECT_EQ(s.sample(l, 3, {2}), 0);
}

TEST(Sampler, TemperatureSharpens) {
  std::vector<float> l = {1.0f, 0.0f};
  SamplerOptions o;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  o.seed = 7;
  auto freq0 = [&](float temp) {
    o.temperature = temp;
    Sampler s(o);
    int c = 0;
    for (int i = 0; i < 4000; ++i) c += s.sample(l.data(), 2, {}) == 0;
    return c / 4000.0;
  };
  // p0 = sigmoid(1/T): T=1 -> 0.731, T=0.25 -> 0.982
  EXPECT_NEAR(freq0(1.0f), 0.731, 0.03);
  EXPECT_NEAR(freq0(0.25f), 0.982, 0.01);
}

}  // namespace
}  // namespace moeinfer
