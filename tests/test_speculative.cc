// Multi-token prediction and draft-and-verify decoding:
//  - the MTP module against the tiny-deepseek-v3-mtp goldens (mtp_logits, mtp_last_greedy);
//  - greedy speculative decoding (MTP and n-gram drafters) emits exactly the plain greedy tokens
//    over 200 tokens, on every tiny model and stories260K;
//  - a drafter forced wrong at chosen steps: after each rollback the logits equal a fresh run's.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <set>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "engine/mtp_runner.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "engine/speculative.h"
#include "test_util.h"

namespace moeinfer {
namespace {

double tol(const std::vector<float>& ref) {
  double m = 1.0;
  for (float v : ref) m = std::max(m, std::fabs(static_cast<double>(v)));
  return 1e-4 * m;
}

TEST(Mtp, MatchesGoldens) {
  LoadOptions lo;
  lo.load_mtp = true;
  auto m = Model::load(test::data_path("tiny-deepseek-v3-mtp"), lo);
  const int64_t nv = m->config().n_vocab, dim = m->config().dim;
  Kernels k(best_isa());
  ThreadPool pool(2);
  for (bool absorbed : {true, false}) {
    for (const char* f : {"logits_len1.json", "logits_len17.json"}) {
      nlohmann::json g = test::read_json(test::data_path(std::string("tiny-deepseek-v3-mtp/golden/") + f));
      std::vector<int32_t> toks = g["tokens"].get<std::vector<int32_t>>();
      const int64_t n = static_cast<int64_t>(toks.size());
      SessionOptions o;
      o.mla_absorbed = absorbed;
      Session s(*m, k, pool, o);
      std::vector<float> hidden(n * dim);
      const float* logits = s.eval(toks.data(), n, true, hidden.data());
      std::vector<int32_t> next(toks.begin() + 1, toks.end());
      next.push_back(argmax(logits + (n - 1) * nv, nv));
      EXPECT_EQ(next.back(), g["mtp_last_greedy"]["next_token"].get<int32_t>());
      MtpRunner r(*m, k, pool, s.capacity(), 8, absorbed);  // batches of 8: chunked MTP prefill
      const float* ml = r.eval(hidden.data(), next.data(), n);
      for (int64_t i = 0; i + 1 < n; ++i) {
        std::vector<float> ref = g["mtp_logits"][i].get<std::vector<float>>();
        std::vector<float> got(ml + i * nv, ml + (i + 1) * nv);
        EXPECT_LE(test::max_abs_diff(got, ref), tol(ref)) << f << " mtp row " << i;
      }
      std::vector<float> ref = g["mtp_last_greedy"]["logits"].get<std::vector<float>>();
      std::vector<float> got(ml + (n - 1) * nv, ml + n * nv);
      EXPECT_LE(test::max_abs_diff(got, ref), tol(ref)) << f << " mtp_last_greedy";
    }
  }
}

TEST(Mtp, MissingModuleIsAClearError) {
  auto m = Model::load(test::data_path("tiny-deepseek-v3"), LoadOptions{true, true});
  Kernels k(Isa::kScalar);
  ThreadPool pool(1);
  EXPECT_THROW(MtpRunner(*m, k, pool, 64, 4, true), Error);
  auto with = Model::load(test::data_path("tiny-deepseek-v3-mtp"));  // MTP present but not loaded
  EXPECT_THROW(MtpRunner(*with, k, pool, 64, 4, true), Error);
}

struct Plain {
  std::vector<int32_t> tokens;
  std::vector<float> steps;
};

Plain plain_greedy(const Model& m, const Kernels& k, ThreadPool& pool, const std::vector<int32_t>& prompt, int n) {
  Plain p;
  Session s(m, k, pool);
  const int64_t nv = m.config().n_vocab;
  const float* l = s.eval(prompt, false);
  for (int i = 0; i < n; ++i) {
    p.steps.insert(p.steps.end(), l, l + nv);
    int32_t t = argmax(l, nv);
    p.tokens.push_back(t);
    if (i + 1 < n) l = s.eval(&t, 1, false);
  }
  return p;
}

void expect_same_steps(const std::vector<float>& a, const std::vector<float>& b, int64_t nv, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t r = 0; r < a.size() / nv; ++r) {
    std::vector<float> x(a.begin() + r * nv, a.begin() + (r + 1) * nv), y(b.begin() + r * nv, b.begin() + (r + 1) * nv);
    EXPECT_LE(test::max_abs_diff(x, y), tol(y)) << what << " step " << r;
  }
}

struct ModelCase {
  std::string path;
  bool mtp;
};

class SpeculativeGreedy : public ::testing::TestWithParam<ModelCase> {};

TEST_P(SpeculativeGreedy, IdenticalToPlainGreedyOver200Tokens) {
  const ModelCase mc = GetParam();
  LoadOptions lo;
  lo.load_mtp = mc.mtp;
  auto m = Model::load(mc.path, lo);
  Kernels k(best_isa());
  ThreadPool pool(2);
  const std::vector<int32_t> prompt = {1, 17, 230, 4, 99, 301, 17, 230, 4, 12};
  const int n = std::min<int64_t>(200, m->config().context_length - 12);
  const Plain ref = plain_greedy(*m, k, pool, prompt, n);
  SamplerOptions so;
  so.temperature = 0.0f;
  std::vector<std::string> kinds = {"ngram"};
  if (mc.mtp) kinds.push_back("mtp");
  for (const std::string& kind : kinds) {
    const int64_t max_draft = kind == "mtp" ? 1 : 4;
    SessionOptions o;
    o.max_batch = 16;
    o.spare_slots = max_draft;
    Session s(*m, k, pool, o);
    Sampler sampler(so);
    std::unique_ptr<MtpRunner> runner;
    std::unique_ptr<Drafter> d;
    if (kind == "mtp") {
      runner = std::make_unique<MtpRunner>(*m, k, pool, s.capacity(), 16, true);
      d = make_mtp_drafter(*runner, sampler, m->config().n_vocab);
    } else {
      d = make_ngram_drafter();
    }
    SpeculativeOptions so2;
    so2.n_gen = n;
    so2.max_draft = max_draft;
    std::vector<float> steps;
    so2.step_logits = &steps;
    DraftStats st;
    std::vector<int32_t> got = speculative_generate(s, *d, sampler, prompt, so2, &st);
    EXPECT_EQ(got, ref.tokens) << kind;
    expect_same_steps(steps, ref.steps, m->config().n_vocab, kind);
    EXPECT_GT(st.drafted, 0) << kind;
    EXPECT_EQ(st.kind, kind);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, SpeculativeGreedy,
                         ::testing::Values(ModelCase{test::data_path("tiny-deepseek-v3-mtp"), true},
                                           ModelCase{test::data_path("tiny-deepseek-v3"), false},
                                           ModelCase{test::data_path("tiny-deepseek-v2-softmax"), false},
                                           ModelCase{test::data_path("tiny-deepseek-v3-fp8"), false},
                                           ModelCase{test::data_path("tiny-mistral"), false},
                                           ModelCase{test::data_path("tiny-llama3"), false},
                                           ModelCase{test::shipped_model(), false}),
                         [](const auto& info) {
                           std::string n = info.param.path.substr(info.param.path.rfind('/') + 1);
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Proposes the true continuation except at chosen steps, where every drafted token is wrong (or
// only the later ones), so rollbacks of 1..3 positions happen at known places.
class ScriptedDrafter : public Drafter {
 public:
  ScriptedDrafter(std::vector<int32_t> truth, std::set<int> wrong_at, int64_t n_vocab)
      : truth_(std::move(truth)), wrong_at_(std::move(wrong_at)), nv_(n_vocab) {}
  const char* kind() const override { return "scripted"; }
  void start(const std::vector<int32_t>&, const float*, int32_t) override { emitted_ = 1; }
  void propose(int64_t max_n, std::vector<int32_t>* draft, std::vector<std::vector<float>>*) override {
    draft->clear();
    for (int64_t j = 0; j < max_n && emitted_ + j < static_cast<int64_t>(truth_.size()); ++j) {
      int32_t t = truth_[emitted_ + j];
      if (wrong_at_.count(step_) && j >= step_ % 2) t = static_cast<int32_t>((t + 1 + j) % nv_);
      draft->push_back(t);
    }
    ++step_;
  }
  void commit(const int32_t*, const float*, int64_t m1, int32_t) override { emitted_ += m1; }

 private:
  std::vector<int32_t> truth_;
  std::set<int> wrong_at_;
  int64_t nv_;
  int64_t emitted_ = 0;
  int step_ = 0;
};

TEST(Speculative, RollbackKeepsCachesExact) {
  for (const std::string& path : {test::data_path("tiny-deepseek-v3"), test::data_path("tiny-mistral")}) {
    auto m = Model::load(path);
    Kernels k(best_isa());
    ThreadPool pool(2);
    const std::vector<int32_t> prompt = {3, 44, 5, 250, 7, 8};
    const int n = 60;
    const Plain ref = plain_greedy(*m, k, pool, prompt, n);
    SessionOptions o;
    o.spare_slots = 3;
    Session s(*m, k, pool, o);
    SamplerOptions so;
    so.temperature = 0.0f;
    Sampler sampler(so);
    ScriptedDrafter d(ref.tokens, {0, 1, 3, 4, 7, 10, 11, 12, 20, 21}, m->config().n_vocab);
    SpeculativeOptions opt;
    opt.n_gen = n;
    opt.max_draft = 3;
    std::vector<float> steps;
    opt.step_logits = &steps;
    DraftStats st;
    std::vector<int32_t> got = speculative_generate(s, d, sampler, prompt, opt, &st);
    EXPECT_EQ(got, ref.tokens) << path;
    expect_same_steps(steps, ref.steps, m->config().n_vocab, path);
    EXPECT_LT(st.accepted, st.drafted) << "the script must force rejections";
    EXPECT_GT(st.accepted, 0);
  }
}

TEST(Speculative, SamplingKeepsTheSeedDeterministic) {
  auto m = Model::load(test::shipped_model());
  Kernels k(best_isa());
  ThreadPool pool(1);
  SamplerOptions so;
  so.temperature = 0.9f;
  so.seed = 42;
  auto run = [&]() {
    Session s(*m, k, pool);
    Sampler sampler(so);
    auto d = make_ngram_drafter();
    SpeculativeOptions o;
    o.n_gen = 80;
    o.max_draft = 4;
    DraftStats st;
    return speculative_generate(s, *d, sampler, {1, 403, 407, 261, 378}, o, &st);
  };
  std::vector<int32_t> a = run(), b = run();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 80u);
}

}  // namespace
}  // namespace moeinfer
