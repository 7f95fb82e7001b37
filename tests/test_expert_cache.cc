// The expert cache (engine/expert_cache.h) against DeepSeek's model.py goldens: with so few slots
// that every MoE layer evicts (1 slot: a token's experts pass through it in turn), each eviction
// policy, both MLA forms, HF folders (BF16/F32, FP8) and GGUF files, greedy tokens equal the
// golden's and step logits are within 1e-4 * max(1, max|ref|); the logits are also bit-identical
// to the resident run. A 100-token prefill routes to more experts than the slots hold (the MoE
// block takes them in turns). The cache's bookkeeping adds up.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "base/error.h"
#include "base/thread_pool.h"
#include "engine/expert_cache.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "model/model.h"
#include "test_util.h"

namespace moeinfer {
namespace {

struct CacheCase {
  const char* model;   // under tests/data
  const char* golden;  // the folder whose golden/ applies
  int64_t slots;
  ExpertPolicy policy;
  bool absorbed;
};

std::string case_name(const ::testing::TestParamInfo<CacheCase>& info) {
  std::string n = std::string(info.param.model) + "_" + std::to_string(info.param.slots) + "slots_" +
                  expert_policy_name(info.param.policy) + (info.param.absorbed ? "_absorbed" : "_naive");
  for (char& c : n)
    if (c == '-' || c == '/' || c == '.') c = '_';
  return n;
}

class ExpertCacheGolden : public ::testing::TestWithParam<CacheCase> {};

// A case's model with an expert cache of its slots and policy.
struct CachedModel {
  std::unique_ptr<Model> model;
  Kernels kernels{best_isa()};
  ThreadPool pool{2};
  ExpertCache cache;
  static ExpertCacheOptions options(const CacheCase& c) {
    ExpertCacheOptions o;
    o.slots = c.slots;
    o.policy = c.policy;
    o.io_threads = 2;
    return o;
  }
  explicit CachedModel(const CacheCase& c)
      : model(Model::load(test::data_path(c.model))), cache(*model, kernels, options(c)) {}
};

void expect_close(const float* got, const std::vector<float>& ref, const std::string& what) {
  double m = 1.0;
  for (float v : ref) m = std::max(m, std::fabs(static_cast<double>(v)));
  std::vector<float> g(got, got + ref.size());
  EXPECT_LE(test::max_abs_diff(g, ref), 1e-4 * m) << what;
}

TEST_P(ExpertCacheGolden, GreedyAndStepLogitsMatchTheReference) {
  const CacheCase& c = GetParam();
  CachedModel cm(c);
  auto& m = cm.model;
  Kernels& k = cm.kernels;
  ThreadPool& pool = cm.pool;
  ExpertCache& cache = cm.cache;
  SessionOptions so;
  so.max_batch = 16;
  so.mla_absorbed = c.absorbed;
  SessionOptions co = so;
  co.experts = &cache;
  Session resident(*m, k, pool, so), cached(*m, k, pool, co);
  const int64_t nv = m->config().n_vocab;
  nlohmann::json g = test::read_json(test::data_path(std::string(c.golden) + "/golden/greedy32.json"));
  const std::vector<int32_t> prompt = g["prompt"].get<std::vector<int32_t>>();
  const float* lr = resident.eval(prompt, false);
  const float* lc = cached.eval(prompt, false);
  std::vector<int32_t> gen;
  for (int i = 0; i < g["n_generated"].get<int>(); ++i) {
    expect_close(lc, g["step_logits"][i].get<std::vector<float>>(), "step " + std::to_string(i));
    ASSERT_EQ(std::vector<float>(lc, lc + nv), std::vector<float>(lr, lr + nv)) << "step " << i;
    int32_t next = argmax(lc, nv);
    gen.push_back(next);
    lr = resident.eval(&next, 1, false);
    lc = cached.eval(&next, 1, false);
  }
  EXPECT_EQ(gen, g["generated"].get<std::vector<int32_t>>());
  // Every layer had to evict: more distinct experts were asked for than it has slots.
  const ExpertCacheStats st = cache.cache_stats();
  ASSERT_FALSE(st.layers.empty());
  for (const ExpertLayerStats& l : st.layers) {
    EXPECT_GT(l.misses, static_cast<uint64_t>(c.slots)) << "layer " << l.layer;
    EXPECT_EQ(l.hits + l.late + l.misses, l.requests) << "layer " << l.layer;
    EXPECT_LE(l.pred_hits, l.pred_actual);
    EXPECT_LE(l.pred_hits, l.pred_total);
  }
  EXPECT_GT(st.total.bytes_read, 0u);
  EXPECT_GE(st.total.recall(), 0.0);
  EXPECT_LE(st.total.recall(), 1.0);
}

TEST_P(ExpertCacheGolden, HundredTokenPrefillTakesExpertsInTurns) {
  const CacheCase& c = GetParam();
  CachedModel cm(c);
  auto& m = cm.model;
  Kernels& k = cm.kernels;
  ThreadPool& pool = cm.pool;
  ExpertCache& cache = cm.cache;
  SessionOptions so;
  so.max_batch = 100;
  so.mla_absorbed = c.absorbed;
  so.experts = &cache;
  Session s(*m, k, pool, so);
  nlohmann::json g = test::read_json(test::data_path(std::string(c.golden) + "/golden/logits_len100.json"));
  const std::vector<int32_t> toks = g["tokens"].get<std::vector<int32_t>>();
  const float* got = s.eval(toks, true);
  const int64_t nv = m->config().n_vocab;
  for (size_t t = 0; t < toks.size(); ++t)
    expect_close(got + t * nv, g["logits"][t].get<std::vector<float>>(), "row " + std::to_string(t));
}

std::vector<CacheCase> cases() {
  std::vector<CacheCase> v;
  for (bool absorbed : {true, false}) {
    v.push_back({"tiny-deepseek-v3", "tiny-deepseek-v3", 1, ExpertPolicy::kLru, absorbed});
    v.push_back({"tiny-deepseek-v3", "tiny-deepseek-v3", 3, ExpertPolicy::kLfu, absorbed});
    v.push_back({"tiny-deepseek-v3", "tiny-deepseek-v3", 5, ExpertPolicy::kPredicted, absorbed});
    v.push_back({"tiny-deepseek-v2-softmax", "tiny-deepseek-v2-softmax", 2, ExpertPolicy::kLfu, absorbed});
    v.push_back({"tiny-deepseek-v3-fp8", "tiny-deepseek-v3-fp8", 3, ExpertPolicy::kPredicted, absorbed});
    v.push_back({"gguf/tiny-deepseek-v3.gguf", "tiny-deepseek-v3", 2, ExpertPolicy::kLru, absorbed});
    v.push_back({"gguf/tiny-deepseek-v2-softmax.gguf", "tiny-deepseek-v2-softmax", 3, ExpertPolicy::kPredicted, absorbed});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Models, ExpertCacheGolden, ::testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace moeinfer

namespace moeinfer {
namespace {

// The cache's bookkeeping on a scripted trace through one layer, 2 slots, no read-ahead: which
// acquires hit and which miss follows from the policy alone.
TEST(ExpertCacheTrace, HitsAndMissesFollowThePolicy) {
  auto m = Model::load(test::data_path("gguf/tiny-deepseek-v3.gguf"));
  Kernels k(best_isa());
  struct Want {
    ExpertPolicy policy;
    uint64_t hits, misses;
  };
  // trace: {0,1} {0} {2} {1} {0} {0} {2} {1}
  // lru: M M | H | M (evicts 1) | M (evicts 0) | M (evicts 2) | H | M (evicts 1) | M (evicts 0)      -> 2 hits
  // lfu (decay 0.9): 0 is used most; after {2}: {0,2}; {1}: evicts 2 -> {0,1}; {0} H; {0} H; {2}: evicts 1 ->
  //   {0,2}; {1}: evicts 2 -> {0,1}                                                               -> 3 hits
  for (const Want& w : {Want{ExpertPolicy::kLru, 2, 7}, Want{ExpertPolicy::kLfu, 3, 6}}) {
    ExpertCacheOptions o;
    o.slots = 2;
    o.policy = w.policy;
    o.predict = false;
    o.prefetch = ExpertCacheOptions::Prefetch::kOff;
    ExpertCache cache(*m, k, o);
    const std::vector<std::vector<int32_t>> trace = {{0, 1}, {0}, {2}, {1}, {0}, {0}, {2}, {1}};
    std::vector<const FfnWeights*> out(2);
    for (const auto& ids : trace) {
      cache.acquire(1, ids.data(), static_cast<int64_t>(ids.size()), out.data());
      for (size_t i = 0; i < ids.size(); ++i)  // the slot holds that expert's bytes
        EXPECT_EQ(std::memcmp(out[i]->w2.data, m->weights().layers[1].moe.experts[ids[i]].w2.data,
                              m->weights().layers[1].moe.experts[ids[i]].w2.nbytes),
                  0);
      cache.release(1);
    }
    const ExpertCacheStats st = cache.cache_stats();
    ASSERT_EQ(st.layers.size(), 3u);
    EXPECT_EQ(st.layers[0].layer, 1);
    EXPECT_EQ(st.layers[0].requests, 9u) << expert_policy_name(w.policy);
    EXPECT_EQ(st.layers[0].hits, w.hits) << expert_policy_name(w.policy);
    EXPECT_EQ(st.layers[0].misses, w.misses) << expert_policy_name(w.policy);
    EXPECT_EQ(st.layers[0].loads, w.misses);
    EXPECT_EQ(st.layers[1].requests, 0u);
    // three experts cannot be held by two slots at once
    const int32_t three[3] = {0, 1, 2};
    const FfnWeights* o3[3];
    EXPECT_THROW(cache.acquire(1, three, 3, o3), Error);
    EXPECT_EQ(cache.capacity(1), 2);
    EXPECT_EQ(cache.capacity(0), INT64_MAX);  // the dense layer holds no experts
  }
}

}  // namespace
}  // namespace moeinfer
