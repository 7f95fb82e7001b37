// The prefix cache (engine/prefix_cache.h): a prompt that shares whole blocks with an earlier one
// starts from them, and gets exactly what it gets computed from scratch; cached blocks give way to
// live sequences when the store runs out; sliding-window models are not cached.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/batch_runner.h"
#include "engine/generator.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "test_util.h"

namespace moeinfer {
namespace {

using test::tokens;

GenRequest greedy_request(std::vector<int32_t> prompt, int64_t n) {
  GenRequest q;
  q.prompt = std::move(prompt);
  q.n_predict = n;
  q.sampling.temperature = 0.0f;
  q.step_logits = true;
  return q;
}

TEST(PrefixCache, SharedPrefixIsReusedAndGivesTheColdResult) {
  for (const char* name : {"tiny-llama3", "tiny-deepseek-v3", "tiny-mistral"}) {
    auto m = Model::load(test::data_path(name));
    const int64_t nv = m->config().n_vocab;
    Kernels k(best_isa());
    ThreadPool pool(2);
    // A system-prompt-like prefix of 70 tokens; three prompts continue it differently.
    const std::vector<int32_t> prefix = tokens(70, nv, 1);
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 3; ++i) {
      std::vector<int32_t> p = prefix;
      for (int32_t t : tokens(5 + 7 * i, nv, 10 + i)) p.push_back(t);
      prompts.push_back(p);
    }
    prompts.push_back(std::vector<int32_t>(prefix.begin(), prefix.begin() + 64));  // exactly one block
    std::vector<GenResult> cold;
    for (const auto& p : prompts) {
      BatchRunner r(*m, k, pool, RunnerOptions{});
      Generator g(r, GeneratorOptions{1, nullptr, 0});
      g.add(greedy_request(p, 8));
      g.run();
      cold.push_back(g.result(0));
    }
    RunnerOptions ro;
    ro.max_seqs = 2;
    BatchRunner r(*m, k, pool, ro);
    Generator g(r, GeneratorOptions{2, nullptr, 16});
    const bool windowed = m->config().attn.sliding_window > 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const int64_t id = g.add(greedy_request(prompts[i], 8));
      g.run();
      const GenResult& got = g.result(id);
      // the first prompt fills the cache; the others share its first block (64 positions); the
      // last is one block long, so at most 0 of it can come from the cache (its last token is fed)
      const int64_t want_cached = windowed || i == 0 || i == 3 ? 0 : 64;
      EXPECT_EQ(got.cached_tokens, want_cached) << name << " prompt " << i;
      EXPECT_EQ(got.generated, cold[i].generated) << name << " prompt " << i;
      ASSERT_EQ(got.step_logits.size(), cold[i].step_logits.size());
      for (size_t v = 0; v < got.step_logits.size(); ++v)
        ASSERT_EQ(got.step_logits[v], cold[i].step_logits[v]) << name << " prompt " << i << " value " << v;
    }
    EXPECT_EQ(g.prefix_cache().hits(), windowed ? 0 : 2) << name;
  }
}

TEST(PrefixCache, CachedBlocksGiveWayToLiveSequences) {
  auto m = Model::load(test::data_path("tiny-llama3"));
  const int64_t nv = m->config().n_vocab;
  Kernels k(best_isa());
  ThreadPool pool(1);
  RunnerOptions ro;
  BatchRunner probe(*m, k, pool, ro);
  ro.kv_bytes = 2 * probe.kv().block_bytes();  // two blocks in all
  BatchRunner r(*m, k, pool, ro);
  Generator g(r, GeneratorOptions{1, nullptr, 8});
  // The first prompt leaves one block in the cache; the second, unrelated, needs both blocks.
  const int64_t a = g.add(greedy_request(tokens(70, nv, 1), 2));
  g.run();
  EXPECT_EQ(g.result(a).finish, FinishReason::kLength);
  EXPECT_EQ(g.prefix_cache().entries(), 1);
  const int64_t b = g.add(greedy_request(tokens(100, nv, 2), 4));
  g.run();
  EXPECT_EQ(g.result(b).finish, FinishReason::kLength) << g.result(b).error;
  EXPECT_EQ(g.result(b).generated.size(), 4u);
}

}  // namespace
}  // namespace moeinfer
