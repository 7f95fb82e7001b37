// stories260K against llama.cpp's goldens (tests/data/stories260K, copied from the shared test
// data): logits at every position within 1e-4 · max(1, max|ref|) with the same argmax, the greedy
// continuation exactly, and the tokenizer's ids. Run on every kernel level this CPU has.
#include <gtest/gtest.h>

#include <cmath>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "engine/loaded_model.h"
#include "model/model.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "test_util.h"

namespace moeinfer {
namespace {

std::vector<Isa> available_isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kAmx})
    if (isa_supported(i)) v.push_back(i);
  return v;
}

class StoriesGolden : public ::testing::TestWithParam<std::tuple<Isa, int>> {
 protected:
  static void SetUpTestSuite() { model_ = Model::load(test::shipped_model()).release(); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static Model* model_;
};
Model* StoriesGolden::model_ = nullptr;

void check_logits_file(const Model& m, Isa isa, int threads, const std::string& file) {
  nlohmann::json g = test::read_json(test::data_path("stories260K/" + file));
  std::vector<int32_t> tokens = g["tokens"].get<std::vector<int32_t>>();
  Kernels k(isa);
  ThreadPool pool(threads);
  SessionOptions o;
  o.max_batch = 64;  // the 200-token file also exercises batch chunking
  Session s(m, k, pool, o);
  const float* logits = s.eval(tokens, true);
  const int64_t nv = m.config().n_vocab;
  ASSERT_EQ(g["logits"].size(), tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t) {
    std::vector<float> ref = g["logits"][t].get<std::vector<float>>();
    ASSERT_EQ(static_cast<int64_t>(ref.size()), nv);
    double mref = 1.0;
    for (float v : ref) mref = std::max(mref, std::fabs(static_cast<double>(v)));
    std::vector<float> got(logits + t * nv, logits + (t + 1) * nv);
    EXPECT_LE(test::max_abs_diff(got, ref), 1e-4 * mref) << file << " position " << t;
    EXPECT_EQ(argmax(got.data(), nv), argmax(ref.data(), nv)) << file << " position " << t;
  }
}

TEST_P(StoriesGolden, LogitsBosOnly) { check_logits_file(*model_, std::get<0>(GetParam()), std::get<1>(GetParam()), "logits_bos_only.json"); }
TEST_P(StoriesGolden, LogitsLilySentence) {
  check_logits_file(*model_, std::get<0>(GetParam()), std::get<1>(GetParam()), "logits_lily_sentence_bos.json");
}
TEST_P(StoriesGolden, LogitsGreedy200) {
  check_logits_file(*model_, std::get<0>(GetParam()), std::get<1>(GetParam()), "logits_greedy200.json");
}

TEST_P(StoriesGolden, Greedy64FromText) {
  nlohmann::json g = test::read_json(test::data_path("stories260K/greedy64_once_upon_a_time.json"));
  const std::unique_ptr<Tokenizer> owned = load_model_tokenizer(*model_);
  const Tokenizer* tok = owned.get();
  ASSERT_NE(tok, nullptr);
  std::vector<int32_t> prompt = tok->encode(g["prompt"].get<std::string>(), true, true);
  EXPECT_EQ(prompt, g["fed_tokens"].get<std::vector<int32_t>>());
  Kernels k(std::get<0>(GetParam()));
  ThreadPool pool(std::get<1>(GetParam()));
  Session s(*model_, k, pool);
  const int64_t nv = model_->config().n_vocab;
  const float* logits = s.eval(prompt, false);
  std::vector<int32_t> gen;
  const int n = g["n_generated"].get<int>();
  for (int i = 0; i < n; ++i) {
    int32_t next = argmax(logits, nv);
    gen.push_back(next);
    logits = s.eval(&next, 1, false);
  }
  EXPECT_EQ(gen, g["generated_tokens"].get<std::vector<int32_t>>());
}

INSTANTIATE_TEST_SUITE_P(AllIsas, StoriesGolden,
                         ::testing::Combine(::testing::ValuesIn(available_isas()), ::testing::Values(1, 2)),
                         [](const auto& info) {
                           return std::string(isa_name(std::get<0>(info.param))) + "_t" +
                                  std::to_string(std::get<1>(info.param));
                         });

TEST(StoriesTokenizer, MatchesLlamaCpp) {
  auto m = LoadedModel::load(test::shipped_model()).tokenizer;
  nlohmann::json g = test::read_json(test::data_path("stories260K/tokenize.json"));
  for (const auto& c : g["cases"]) {
    const std::string text = c["text"].get<std::string>();
    std::vector<int32_t> want = c["tokens"].get<std::vector<int32_t>>();
    EXPECT_EQ(m->encode(text, true, false), want) << text;
    EXPECT_EQ(m->encode(text, true, true), want) << text;
    // decode(ids) == llama.cpp's detokenized text minus the one leading space it keeps
    std::vector<int32_t> ids(want.begin() + 1, want.end());
    std::string det = c["detokenized"].get<std::string>();
    EXPECT_EQ(m->decode(ids), det.substr(1)) << text;
  }
}

TEST(StoriesTokenizer, SpecialTokensAndBytes) {
  const LoadedModel lm = LoadedModel::load(test::shipped_model());
  ASSERT_NE(lm.tokenizer, nullptr);
  const Tokenizer& t = *lm.tokenizer;
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_TRUE(t.add_bos());
  EXPECT_TRUE(t.encode("", false, true).empty());
  EXPECT_EQ(t.encode("", true, true), std::vector<int32_t>{1});
  // "</s>" is a control token: matched with parse_special, spelled out without it.
  std::vector<int32_t> parsed = t.encode("a</s>b", false, true);
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed[1], 2);
  std::vector<int32_t> literal = t.encode("a</s>b", false, false);
  EXPECT_GT(literal.size(), 3u);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), 2), 0);
  EXPECT_EQ(t.decode(parsed), "a</s> b");  // the segment after a special token gets a prefix space
  EXPECT_EQ(t.token_to_piece(13), "\n");   // <0x0A>
  EXPECT_EQ(t.token_to_piece(1), "");      // control tokens stream as nothing
}

}  // namespace
}  // namespace moeinfer
