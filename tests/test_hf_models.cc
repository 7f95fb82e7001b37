// Hugging Face directories against the official references' goldens (tests/data/tiny-*, copied
// from the shared test data): Meta's Llama 3 reference (GQA, llama3 rope scaling, NeoX pairing of
// HF checkpoints) and mistral-inference (sliding window 8, rolling cache). Logits at every
// position within 1e-4·max(1, max|ref|) with the same argmax; greedy tokens identical; the
// decode-path step logits within the same tolerance.
#include <gtest/gtest.h>

#include <cmath>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "test_util.h"

namespace moeinfer {
namespace {

void expect_rows_match(const float* got, const nlohmann::json& ref_rows, int64_t nv, const std::string& what) {
  for (size_t t = 0; t < ref_rows.size(); ++t) {
    std::vector<float> ref = ref_rows[t].get<std::vector<float>>();
    ASSERT_EQ(static_cast<int64_t>(ref.size()), nv);
    double m = 1.0;
    for (float v : ref) m = std::max(m, std::fabs(static_cast<double>(v)));
    std::vector<float> g(got + t * nv, got + (t + 1) * nv);
    EXPECT_LE(test::max_abs_diff(g, ref), 1e-4 * m) << what << " row " << t;
    EXPECT_EQ(argmax(g.data(), nv), argmax(ref.data(), nv)) << what << " row " << t;
  }
}

class HfModelGolden : public ::testing::TestWithParam<std::tuple<std::string, Isa>> {
 protected:
  std::string dir() const { return test::data_path(std::get<0>(GetParam())); }
  Isa isa() const { return std::get<1>(GetParam()); }
};

TEST_P(HfModelGolden, LogitsEveryFile) {
  auto m = Model::load(dir());
  Kernels k(isa());
  ThreadPool pool(2);
  int files = 0;
  for (const char* f : {"logits_len1.json", "logits_len17.json", "logits_len40.json", "logits_len100.json"}) {
    const std::string path = dir() + "/golden/" + f;
    if (std::FILE* fp = std::fopen(path.c_str(), "rb")) std::fclose(fp);
    else continue;
    ++files;
    nlohmann::json g = test::read_json(path);
    std::vector<int32_t> toks = g["tokens"].get<std::vector<int32_t>>();
    SessionOptions o;
    o.max_batch = 16;  // chunked prefill, longer than the Mistral window
    Session s(*m, k, pool, o);
    const float* logits = s.eval(toks, true);
    expect_rows_match(logits, g["logits"], m->config().n_vocab, f);
  }
  EXPECT_GE(files, 3);
}

TEST_P(HfModelGolden, Greedy32WithStepLogits) {
  auto m = Model::load(dir());
  Kernels k(isa());
  ThreadPool pool(2);
  nlohmann::json g = test::read_json(dir() + "/golden/greedy32.json");
  std::vector<int32_t> prompt = g["prompt"].get<std::vector<int32_t>>();
  const int64_t nv = m->config().n_vocab;
  Session s(*m, k, pool);
  const float* logits = s.eval(prompt, false);
  std::vector<int32_t> gen;
  std::vector<float> steps;
  const int n = g["n_generated"].get<int>();
  for (int i = 0; i < n; ++i) {
    steps.insert(steps.end(), logits, logits + nv);
    int32_t next = argmax(logits, nv);
    gen.push_back(next);
    logits = s.eval(&next, 1, false);
  }
  EXPECT_EQ(gen, g["generated"].get<std::vector<int32_t>>());
  expect_rows_match(steps.data(), g["step_logits"], nv, "step_logits");
}

std::vector<Isa> isas() {
  std::vector<Isa> v = {Isa::kScalar};
  if (isa_supported(Isa::kAvx2)) v.push_back(Isa::kAvx2);
  if (isa_supported(Isa::kAvx512)) v.push_back(Isa::kAvx512);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Models, HfModelGolden,
                         ::testing::Combine(::testing::Values("tiny-llama3", "tiny-mistral"), ::testing::ValuesIn(isas())),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param) + "_" + isa_name(std::get<1>(info.param));
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(HfConfig, ReadsLlama3AndMistral) {
  auto l = Model::load(test::data_path("tiny-llama3"));
  EXPECT_EQ(l->config().arch, "llama");
  EXPECT_EQ(l->config().rope.scaling, RopeScaling::kLlama3);
  EXPECT_EQ(l->config().rope.pairing, RopePairing::kNeox);
  EXPECT_EQ(l->config().rope.original_context, 64);
  EXPECT_EQ(l->config().attn.n_kv_heads, 2);
  auto m = Model::load(test::data_path("tiny-mistral"));
  EXPECT_EQ(m->config().arch, "mistral");
  EXPECT_EQ(m->config().attn.sliding_window, 8);
  EXPECT_STREQ(m->format(), "hf");
}

// With a sliding window, KV blocks that leave the window are freed and reused: the memory in use
// stays bounded by the window however long the decode runs.
TEST(RollingCache, BoundedByTheWindow) {
  auto m = Model::load(test::data_path("tiny-mistral"));
  const ModelConfig& c = m->config();
  const int64_t w = c.attn.sliding_window;
  Kernels k(best_isa());
  ThreadPool pool(1);
  Session s(*m, k, pool);
  const int64_t bs = s.kv().block_size();
  const uint64_t bound = static_cast<uint64_t>((w + bs - 1) / bs + 1) * s.kv().block_bytes();
  int32_t tok = 1;
  uint64_t most = 0;
  const int64_t steps = 4 * std::max(w, bs) + 3;
  for (int64_t i = 0; i < steps; ++i) {
    tok = argmax(s.eval(&tok, 1, false), c.n_vocab);
    most = std::max(most, s.kv().bytes_in_use());
  }
  EXPECT_EQ(s.pos(), steps);
  EXPECT_LE(most, bound);
  EXPECT_LE(s.kv().bytes_allocated(), bound);
}

// Prefill in chunks shorter and longer than the window equals one pass (exactness of the mask and
// of reading the current batch's keys past a rolling cache).
TEST(RollingCache, ChunkedPrefillEqualsOnePass) {
  auto m = Model::load(test::data_path("tiny-mistral"));
  const int64_t nv = m->config().n_vocab;
  Kernels k(best_isa());
  ThreadPool pool(2);
  std::vector<int32_t> toks;
  for (int i = 0; i < 50; ++i) toks.push_back((i * 131 + 7) % 512);
  SessionOptions full;
  full.max_batch = 50;
  Session a(*m, k, pool, full);
  const float* p = a.eval(toks, true);
  std::vector<float> ref(p, p + 50 * nv);
  for (int64_t chunk : {1, 3, 8, 9, 20}) {
    SessionOptions o;
    o.max_batch = chunk;
    Session b(*m, k, pool, o);
    const float* q = b.eval(toks, true);
    std::vector<float> got(q, q + 50 * nv);
    EXPECT_LE(test::max_abs_diff(got, ref), 1e-4 * 10) << "chunk " << chunk;
  }
}

}  // namespace
}  // namespace moeinfer
