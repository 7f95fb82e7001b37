// Eviction policies (engine/expert_policy.h) on scripted access traces with known victims, and the
// --router-skew generator (convert/router_skew.h): its target is Zipf(S) capped at one selection
// per token, and the calibrated bias gives that popularity on simulated router logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/error.h"
#include "convert/router_skew.h"
#include "engine/expert_policy.h"
#include "model/blocks/routing.h"

namespace moeinfer {
namespace {

// Steps: each a list of experts used in it.
void play(EvictionPolicy& p, const std::vector<std::vector<int32_t>>& steps) {
  for (const auto& s : steps) {
    p.step();
    for (int32_t x : s) p.use(x);
  }
}

int32_t victim_of(const EvictionPolicy& p, std::vector<int32_t> cand) {
  return cand[p.victim(cand.data(), static_cast<int64_t>(cand.size()))];
}

TEST(ExpertPolicy, LruEvictsTheLeastRecentlyUsed) {
  EvictionPolicy p(ExpertPolicy::kLru, 8);
  play(p, {{0, 1}, {2}, {0}, {3}, {1}});
  EXPECT_EQ(victim_of(p, {0, 1, 2, 3}), 2);  // last used at step 2
  play(p, {{2}});
  EXPECT_EQ(victim_of(p, {0, 1, 2, 3}), 0);  // step 3
  EXPECT_EQ(victim_of(p, {5, 6}), 5);       // never used: the lower id
}

TEST(ExpertPolicy, LfuKeepsTheFrequentAndForgetsTheOld) {
  EvictionPolicy p(ExpertPolicy::kLfu, 8, 0.5);
  // 0 used in 4 early steps, 1 in the last two, 2 once at the end.
  play(p, {{0}, {0}, {0}, {0}, {}, {}, {}, {}, {1}, {1, 2}});
  // decayed counts: 0: (1+.5+.25+.125)*.5^6 ~ 0.029; 1: 1.5; 2: 1.
  EXPECT_EQ(victim_of(p, {0, 1, 2}), 0);
  EXPECT_EQ(victim_of(p, {1, 2}), 2);
  EvictionPolicy q(ExpertPolicy::kLfu, 8, 0.99);  // slow decay: frequency wins over recency
  play(q, {{0}, {0}, {0}, {1}});
  EXPECT_EQ(victim_of(q, {0, 1}), 1);
}

TEST(ExpertPolicy, PredictedEvictsTheLeastLikely) {
  EvictionPolicy p(ExpertPolicy::kPredicted, 8, 0.9);
  play(p, {{0, 1, 2}, {0, 1, 2}});
  const int32_t ids[] = {1, 2};
  const float like[] = {0.9f, 0.4f};
  p.predict(ids, like, 2);
  EXPECT_EQ(victim_of(p, {0, 1, 2}), 0);  // equally frequent; 0 is not predicted
  const int32_t ids2[] = {0};
  const float like2[] = {0.8f};
  p.predict(ids2, like2, 1);
  EXPECT_EQ(victim_of(p, {0, 1, 2}), 1);  // 1 and 2 tie on frequency, not predicted: lower id
  EXPECT_EQ(parse_expert_policy("predicted", "--expert-policy"), ExpertPolicy::kPredicted);
  EXPECT_THROW(parse_expert_policy("fifo", "--expert-policy"), UsageError);
}

TEST(RouterSkew, TargetIsCappedZipf) {
  std::vector<int64_t> rank(64);
  std::iota(rank.begin(), rank.end(), 1);
  const std::vector<double> t = zipf_target(rank, 6, 1.0);
  EXPECT_NEAR(std::accumulate(t.begin(), t.end(), 0.0), 6.0, 1e-9);
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_LE(t[i], 1.0 + 1e-12);
    if (i > 0) {
      EXPECT_LE(t[i], t[i - 1] + 1e-12);
    }
  }
  EXPECT_DOUBLE_EQ(t[0], 1.0);  // 6 / H(64) = 1.26 > 1: capped
  for (size_t i = 2; i + 1 < t.size(); ++i)
    if (t[i] < 1.0) {
      EXPECT_NEAR(t[i] / t[i + 1], static_cast<double>(i + 2) / static_cast<double>(i + 1), 1e-9);
    }
  const std::vector<double> flat = zipf_target(rank, 6, 0.0);
  for (double v : flat) EXPECT_NEAR(v, 6.0 / 64, 1e-12);
  const std::vector<int64_t> perm = skew_ranking(64, 7, 3);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, rank);
  EXPECT_NE(perm, skew_ranking(64, 7, 4));
}

TEST(RouterSkew, CalibratedBiasGivesThePopularity) {
  for (const bool v3 : {false, true}) {
    MoeConfig e;
    e.n_experts = 64;
    e.n_experts_per_tok = 6;
    if (v3) {  // sigmoid with group-limited routing
      e.scoring = MoeScoring::kSigmoid;
      e.n_group = 8;
      e.topk_group = 4;
      e.norm_topk_prob = true;
    }
    const std::vector<float> bias = skew_router_bias(e, 1.0, 11, 5);
    const std::vector<double> want = zipf_target(skew_ranking(64, 11, 5), 6, 1.0);
    const std::vector<double> got = simulate_popularity(e, bias, 20000, 99);
    double err = 0.0;
    for (size_t x = 0; x < want.size(); ++x) err += std::fabs(got[x] - want[x]);
    EXPECT_LT(err / 6.0, v3 ? 0.12 : 0.06) << (v3 ? "v3" : "v2");  // share of selections misplaced
    // The most popular quarter of the experts takes most of the selections.
    std::vector<double> sorted = got;
    std::sort(sorted.rbegin(), sorted.rend());
    EXPECT_GT(std::accumulate(sorted.begin(), sorted.begin() + 16, 0.0) / 6.0, 0.6);
  }
}

}  // namespace
}  // namespace moeinfer

namespace moeinfer {
namespace {

TEST(CacheAwareRouting, ReplacesOnlyWithinTheToleranceAndRenormalizes) {
  MoeConfig e;
  e.n_experts = 6;
  e.n_experts_per_tok = 2;
  e.norm_topk_prob = true;
  e.routed_scaling_factor = 2.0f;
  const float scores[6] = {0.10f, 0.30f, 0.25f, 0.05f, 0.28f, 0.02f};
  auto resident = [](int32_t x) { return x == 0 || x == 2 || x == 4; };
  // chosen: 1 (0.30, absent) and 4 (0.28, resident)
  int32_t ids[2] = {1, 4};
  float w[2] = {0, 0};
  EXPECT_EQ(substitute_resident(e, scores, nullptr, 0.01f, resident, ids, w), 0);  // 2 is 0.05 below
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(substitute_resident(e, scores, nullptr, 0.06f, resident, ids, w), 1);
  EXPECT_EQ(ids[0], 2);  // the best resident one not already chosen
  EXPECT_EQ(ids[1], 4);
  EXPECT_NEAR(w[0], 2.0f * 0.25f / 0.53f, 1e-6);
  EXPECT_NEAR(w[1], 2.0f * 0.28f / 0.53f, 1e-6);
  // with a bias, the selection score decides; the weights stay unbiased
  const float bias[6] = {0.5f, 0, 0, 0, 0, 0};
  int32_t ids2[2] = {1, 3};
  EXPECT_EQ(substitute_resident(e, scores, bias, 0.0f, resident, ids2, w), 2);
  EXPECT_EQ(ids2[0], 0);  // 0.6 selection score
  EXPECT_EQ(ids2[1], 4);
  EXPECT_NEAR(w[0], 2.0f * 0.10f / 0.38f, 1e-6);
}

}  // namespace
}  // namespace moeinfer
