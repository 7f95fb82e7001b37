// Many sequences in one forward pass (engine/batch_runner.h, engine/generator.h): every row must
// get exactly what it gets when its sequence runs alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "engine/batch_runner.h"
#include "engine/generator.h"
#include "engine/loaded_model.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "engine/session.h"
#include "test_util.h"

namespace moeinfer {
namespace {

using test::tokens;

double tol(const float* ref, int64_t n) {
  double m = 1.0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(ref[i])));
  return 1e-4 * m;
}

struct Case {
  std::string model;
  bool absorbed;
};

class MixedBatch : public ::testing::TestWithParam<Case> {};

// One batch holds a prefill chunk of one sequence and decode tokens of three others; each row's
// logits equal those of its sequence run alone through a Session.
TEST_P(MixedBatch, PrefillChunkWithDecodeRowsEqualsAlone) {
  auto m = Model::load(test::data_path(GetParam().model));
  const int64_t nv = m->config().n_vocab;
  Kernels k(best_isa());
  ThreadPool pool(2);
  // Histories: A has 20 tokens of which 12 were fed before and 8 come now as a chunk; B, C, D
  // were fed 5, 30, 1 tokens and decode one more each.
  const std::vector<int64_t> lens = {20, 6, 31, 2}, before = {12, 5, 30, 1};
  std::vector<std::vector<int32_t>> hist;
  std::vector<std::vector<float>> alone;  // logits of every position, alone
  for (size_t s = 0; s < lens.size(); ++s) {
    hist.push_back(tokens(lens[s], nv, static_cast<int>(s)));
    SessionOptions o;
    o.max_batch = lens[s];
    o.mla_absorbed = GetParam().absorbed;
    Session one(*m, k, pool, o);
    const float* l = one.eval(hist[s], true);
    alone.emplace_back(l, l + lens[s] * nv);
  }
  RunnerOptions ro;
  ro.max_batch = 64;
  ro.max_seqs = 4;
  ro.mla_absorbed = GetParam().absorbed;
  BatchRunner r(*m, k, pool, ro);
  std::vector<int32_t> seq;
  for (size_t s = 0; s < lens.size(); ++s) seq.push_back(r.kv().add_sequence());
  Batch b;
  for (size_t s = 0; s < lens.size(); ++s) {  // each sequence's history before the mixed step
    b.clear();
    for (int64_t p = 0; p < before[s]; ++p) b.add(hist[s][p], p, seq[s], false);
    r.run(b);
  }
  // The mixed batch: decode rows of B and C, A's chunk (every row's logits), D's decode row.
  b.clear();
  b.add(hist[1][5], 5, seq[1], true);
  b.add(hist[2][30], 30, seq[2], true);
  for (int64_t p = 12; p < 20; ++p) b.add(hist[0][p], p, seq[0], true);
  b.add(hist[3][1], 1, seq[3], true);
  const float* got = r.run(b);
  ASSERT_EQ(b.n_out(), 11);
  auto expect_row = [&](int64_t row, size_t s, int64_t pos) {
    const float* want = alone[s].data() + pos * nv;
    double d = 0;
    for (int64_t i = 0; i < nv; ++i) d = std::max(d, std::fabs(static_cast<double>(got[row * nv + i] - want[i])));
    EXPECT_LE(d, tol(want, nv)) << "sequence " << s << " position " << pos;
  };
  expect_row(0, 1, 5);
  expect_row(1, 2, 30);
  for (int64_t p = 12; p < 20; ++p) expect_row(2 + (p - 12), 0, p);
  expect_row(10, 3, 1);
  for (size_t s = 0; s < lens.size(); ++s) EXPECT_EQ(r.kv().length(seq[s]), lens[s]);
}

INSTANTIATE_TEST_SUITE_P(Models, MixedBatch,
                         ::testing::Values(Case{"tiny-llama3", true}, Case{"tiny-mistral", true},
                                           Case{"tiny-deepseek-v3", true}, Case{"tiny-deepseek-v3", false},
                                           Case{"tiny-deepseek-v2-softmax", true},
                                           Case{"tiny-deepseek-v2-softmax", false}),
                         [](const auto& info) {
                           std::string n = info.param.model + (info.param.absorbed ? "_absorbed" : "_naive");
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(MixedBatch, RowsOutOfOrderAreRejected) {
  auto m = Model::load(test::data_path("tiny-llama3"));
  Kernels k(best_isa());
  ThreadPool pool(1);
  RunnerOptions ro;
  ro.max_seqs = 2;
  BatchRunner r(*m, k, pool, ro);
  const int32_t a = r.kv().add_sequence();
  Batch b;
  b.add(5, 1, a, true);  // position 1 before 0
  EXPECT_THROW(r.run(b), Error);
  b.clear();
  b.add(5, 0, a + 1, true);  // no such sequence
  EXPECT_THROW(r.run(b), Error);
}

// Greedy generation of many prompts at once, any parallelism, equals each prompt alone: tokens
// identical, every step's logits within 1e-4 of the alone run.
TEST(Generator, ParallelPromptsEqualAlone) {
  for (const char* name : {"tiny-llama3", "tiny-mistral", "tiny-deepseek-v3"}) {
    auto m = Model::load(test::data_path(name));
    const int64_t nv = m->config().n_vocab;
    Kernels k(best_isa());
    ThreadPool pool(2);
    const std::vector<int64_t> lens = {1, 9, 40, 3, 17, 60};
    SamplerOptions greedy;
    greedy.temperature = 0.0f;
    auto request = [&](int64_t i) {
      GenRequest q;
      q.prompt = tokens(lens[i], nv, static_cast<int>(i) + 3);
      q.n_predict = 6 + i;
      q.sampling = greedy;
      q.step_logits = true;
      return q;
    };
    std::vector<GenResult> alone;
    for (size_t i = 0; i < lens.size(); ++i) {
      RunnerOptions ro;
      ro.max_batch = lens[i];
      BatchRunner r(*m, k, pool, ro);
      Generator g(r, GeneratorOptions{1, nullptr});
      g.add(request(static_cast<int64_t>(i)));
      g.run();
      alone.push_back(g.result(0));
      ASSERT_EQ(static_cast<int64_t>(alone.back().generated.size()), 6 + static_cast<int64_t>(i));
    }
    for (int64_t parallel : {1, 2, 3, 8}) {
      RunnerOptions ro;
      ro.max_batch = 32;  // prompts longer than this arrive in chunks, beside other rows
      ro.max_seqs = parallel;
      BatchRunner r(*m, k, pool, ro);
      Generator g(r, GeneratorOptions{parallel, nullptr});
      for (size_t i = 0; i < lens.size(); ++i) g.add(request(static_cast<int64_t>(i)));
      g.run();
      for (size_t i = 0; i < lens.size(); ++i) {
        const GenResult& got = g.result(static_cast<int64_t>(i));
        EXPECT_EQ(got.generated, alone[i].generated) << name << " prompt " << i << " parallel " << parallel;
        ASSERT_EQ(got.step_logits.size(), alone[i].step_logits.size());
        for (size_t s = 0; s < got.generated.size(); ++s) {
          const float* want = alone[i].step_logits.data() + s * nv;
          double d = 0;
          for (int64_t v = 0; v < nv; ++v)
            d = std::max(d, std::fabs(static_cast<double>(got.step_logits[s * nv + v] - want[v])));
          EXPECT_LE(d, tol(want, nv)) << name << " prompt " << i << " step " << s;
        }
      }
      EXPECT_EQ(r.kv().bytes_in_use(), 0u) << "finished sequences give their blocks back";
    }
  }
}

// Any id of a set of two or more end-of-generation ids stops generation (kept in `generated`,
// never streamed); a stop string split across tokens stops it and is never emitted.
TEST(Generator, StopsAtEveryIdOfTheEogSetAndAtStopStrings) {
  const LoadedModel lm = LoadedModel::load(test::shipped_model());
  const Model* m = lm.model.get();
  const Tokenizer* tok = lm.tokenizer.get();
  ASSERT_NE(tok, nullptr);
  Kernels k(best_isa());
  ThreadPool pool(2);
  RunnerOptions ro;
  BatchRunner r(*m, k, pool, ro);
  SamplerOptions greedy;
  greedy.temperature = 0.0f;
  const std::vector<int32_t> prompt = tok->encode("Once upon a time", true, true);
  auto run = [&](std::vector<int32_t> eog, std::vector<std::string> stop, std::string* streamed) {
    Generator g(r, GeneratorOptions{1, tok});
    GenRequest q;
    q.prompt = prompt;
    q.n_predict = 40;
    q.sampling = greedy;
    q.stop_at_eog = !eog.empty();
    q.eog = eog;
    q.stop = stop;
    q.on_text = [streamed](const std::string& t) { *streamed += t; };
    g.add(q);
    g.run();
    return g.result(0);
  };
  std::string full_text;
  const GenResult full = run({}, {}, &full_text);
  ASSERT_EQ(full.generated.size(), 40u);
  EXPECT_EQ(full.finish, FinishReason::kLength);
  EXPECT_EQ(full.text, full_text);
  // Two EOG sets, each stopping at a different one of its ids.
  for (size_t at : {4u, 9u}) {
    const int32_t id = full.generated[at];
    const size_t first = std::find(full.generated.begin(), full.generated.end(), id) - full.generated.begin();
    std::vector<int32_t> eog = {at == 4 ? id : 1, at == 4 ? 2 : id};  // the stopping id first, then second
    std::string streamed;
    const GenResult g = run(eog, {}, &streamed);
    EXPECT_EQ(g.finish, FinishReason::kStop);
    ASSERT_EQ(g.generated.size(), first + 1);
    EXPECT_EQ(g.generated.back(), id);
    std::string want;
    for (size_t i = 0; i < first; ++i) want += tok->token_to_piece(full.generated[i]);
    EXPECT_EQ(streamed, want) << "the EOG id is not streamed";
  }
  // A stop string made of the end of one token's piece and the start of the next.
  std::string a, b;
  size_t split = 0;
  for (size_t i = 3; i + 1 < full.generated.size(); ++i) {
    a = tok->token_to_piece(full.generated[i]);
    b = tok->token_to_piece(full.generated[i + 1]);
    if (a.size() >= 2 && b.size() >= 2) {
      split = i;
      break;
    }
  }
  ASSERT_GT(split, 0u);
  const std::string stop = a.substr(a.size() - 2) + b.substr(0, 2);
  std::string streamed;
  const GenResult g = run({}, {stop}, &streamed);
  EXPECT_EQ(g.finish, FinishReason::kStop);
  const size_t at = full_text.find(stop);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(streamed, full_text.substr(0, at));
  EXPECT_EQ(g.text, streamed);
  EXPECT_EQ(streamed.find(stop), std::string::npos);
}

}  // namespace
}  // namespace moeinfer

namespace moeinfer {
namespace {

// A KV pool too small for every prompt: the sequence whose block cannot be had ends with a clear
// error; the others finish with exactly their alone results.
TEST(Generator, KvExhaustionEndsOnlyTheAskingSequence) {
  auto m = Model::load(test::data_path("tiny-llama3"));
  const int64_t nv = m->config().n_vocab;
  Kernels k(best_isa());
  ThreadPool pool(1);
  SamplerOptions greedy;
  greedy.temperature = 0.0f;
  RunnerOptions probe_o;
  BatchRunner probe(*m, k, pool, probe_o);
  const uint64_t block = probe.kv().block_bytes();
  auto request = [&](int64_t len, int seed) {
    GenRequest q;
    q.prompt = tokens(len, nv, seed);
    q.n_predict = 8;
    q.sampling = greedy;
    return q;
  };
  // Alone: a 10-token prompt needs one block (64 positions).
  RunnerOptions one_o;
  BatchRunner one(*m, k, pool, one_o);
  Generator alone(one, GeneratorOptions{1, nullptr});
  alone.add(request(10, 1));
  alone.run();
  // Together with a 100-token prompt (two blocks) in a pool of two blocks: the small prompt's
  // rows come first in the batch and take one block, so the long one fails on its second.
  RunnerOptions ro;
  ro.max_seqs = 2;
  ro.kv_bytes = 2 * block;
  BatchRunner r(*m, k, pool, ro);
  Generator g(r, GeneratorOptions{2, nullptr});
  g.add(request(10, 1));
  g.add(request(100, 2));
  g.run();
  const GenResult& small = g.result(0);
  const GenResult& big = g.result(1);
  EXPECT_EQ(big.finish, FinishReason::kError);
  EXPECT_NE(big.error.find("kv cache"), std::string::npos) << big.error;
  EXPECT_EQ(small.finish, FinishReason::kLength);
  EXPECT_EQ(small.generated, alone.result(0).generated);
  EXPECT_EQ(r.kv().bytes_in_use(), 0u);
}

}  // namespace
}  // namespace moeinfer
