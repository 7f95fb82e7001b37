// llama.cpp's deepseek2 GGUF files (tests/data/gguf, copied from the shared test data) hold the
// same weights as the tiny HF folders, so the folders' goldens apply: both MLA layouts
// (attn_k_b/attn_v_b and legacy attn_kv_b), both MLA forms. Corrupting each required key and
// tensor shape in turn gives a clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "base/error.h"
#include "base/thread_pool.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "test_util.h"

namespace moeinfer {
namespace {

struct GgufCase {
  const char* file;
  const char* golden_dir;
};

class DeepseekGguf : public ::testing::TestWithParam<std::tuple<GgufCase, bool>> {};

TEST_P(DeepseekGguf, ReproducesTheFolderGoldens) {
  const GgufCase gc = std::get<0>(GetParam());
  auto m = Model::load(test::data_path(std::string("gguf/") + gc.file));
  Kernels k(best_isa());
  ThreadPool pool(2);
  SessionOptions o;
  o.mla_absorbed = std::get<1>(GetParam());
  o.max_batch = 32;
  const int64_t nv = m->config().n_vocab;
  for (const char* f : {"logits_len17.json", "logits_len100.json"}) {
    nlohmann::json g = test::read_json(test::data_path(std::string(gc.golden_dir) + "/golden/" + f));
    std::vector<int32_t> toks = g["tokens"].get<std::vector<int32_t>>();
    Session s(*m, k, pool, o);
    const float* l = s.eval(toks, true);
    for (size_t t = 0; t < toks.size(); ++t) {
      std::vector<float> ref = g["logits"][t].get<std::vector<float>>();
      double mref = 1.0;
      for (float v : ref) mref = std::max(mref, std::fabs(static_cast<double>(v)));
      std::vector<float> got(l + t * nv, l + (t + 1) * nv);
      EXPECT_LE(test::max_abs_diff(got, ref), 1e-4 * mref) << gc.file << " " << f << " row " << t;
      EXPECT_EQ(argmax(got.data(), nv), argmax(ref.data(), nv));
    }
  }
  nlohmann::json g = test::read_json(test::data_path(std::string(gc.golden_dir) + "/golden/greedy32.json"));
  std::vector<int32_t> prompt = g["prompt"].get<std::vector<int32_t>>();
  Session s(*m, k, pool, o);
  const float* l = s.eval(prompt, false);
  std::vector<int32_t> gen;
  for (int i = 0; i < g["n_generated"].get<int>(); ++i) {
    int32_t t = argmax(l, nv);
    gen.push_back(t);
    l = s.eval(&t, 1, false);
  }
  EXPECT_EQ(gen, g["generated"].get<std::vector<int32_t>>()) << gc.file;
}

INSTANTIATE_TEST_SUITE_P(Files, DeepseekGguf,
                         ::testing::Combine(::testing::Values(GgufCase{"tiny-deepseek-v3.gguf", "tiny-deepseek-v3"},
                                                              GgufCase{"tiny-deepseek-v3-legacy-kv-b.gguf", "tiny-deepseek-v3"},
                                                              GgufCase{"tiny-deepseek-v2-softmax.gguf", "tiny-deepseek-v2-softmax"}),
                                            ::testing::Bool()));

TEST(DeepseekGgufConfig, SameSummaryAsTheFolder) {
  for (const auto& [file, dir] : {std::pair{"tiny-deepseek-v3.gguf", "tiny-deepseek-v3"},
                                  std::pair{"tiny-deepseek-v2-softmax.gguf", "tiny-deepseek-v2-softmax"}}) {
    auto g = Model::load(test::data_path(std::string("gguf/") + file));
    auto h = Model::load(test::data_path(dir));
    const ModelConfig &a = g->config(), &b = h->config();
    EXPECT_EQ(a.arch, b.arch) << file;
    EXPECT_EQ(a.n_layers, b.n_layers);
    EXPECT_EQ(a.mla->q_lora_rank, b.mla->q_lora_rank);
    EXPECT_EQ(a.mla->qk_nope_dim, b.mla->qk_nope_dim);
    EXPECT_EQ(a.mla->v_head_dim, b.mla->v_head_dim);
    EXPECT_EQ(a.moe->n_group, b.moe->n_group);
    EXPECT_EQ(a.moe->scoring, b.moe->scoring);
    EXPECT_EQ(a.moe->norm_topk_prob, b.moe->norm_topk_prob);
    EXPECT_NEAR(a.attn.softmax_scale, b.attn.softmax_scale, 1e-6);
    EXPECT_NEAR(a.rope.mscale_all_dim, b.rope.mscale_all_dim, 1e-6);
  }
}

// Rewrites a GGUF with one key dropped (or a tensor reshaped) and checks the load fails cleanly.
class DeepseekGgufCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir();
    src_ = GgufFile::open(test::data_path("gguf/tiny-deepseek-v3.gguf"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string rewrite(const std::string& drop_key, const std::string& reshape_tensor) {
    GgufWriter w;
    for (const GgufKV& kv : src_->metadata())
      if (kv.key != drop_key) w.add(kv.key, kv.value);
    for (const TensorView& t : src_->tensors()) {
      std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
      if (t.name == reshape_tensor) {  // same bytes, swapped outer dims or one row fewer
        if (ne.size() >= 2) std::swap(ne[0], ne[1]);
        else ne[0] = ne[0] / 2, ne.push_back(2);
      }
      w.add_tensor(t.name, t.type, ne, t.data, t.nbytes);
    }
    const std::string out = dir_ + "/c" + std::to_string(n_++) + ".gguf";
    w.write(out);
    return out;
  }
  std::string dir_;
  std::unique_ptr<GgufFile> src_;
  int n_ = 0;
};

TEST_F(DeepseekGgufCorrupt, EveryRequiredKeyAndShape) {
  const char* required[] = {"deepseek2.context_length", "deepseek2.embedding_length", "deepseek2.block_count",
                            "deepseek2.feed_forward_length", "deepseek2.attention.head_count",
                            "deepseek2.attention.layer_norm_rms_epsilon", "deepseek2.attention.q_lora_rank",
                            "deepseek2.attention.kv_lora_rank", "deepseek2.rope.dimension_count",
                            "deepseek2.expert_used_count", "deepseek2.expert_feed_forward_length",
                            "deepseek2.rope.scaling.factor", "deepseek2.rope.scaling.original_context_length"};
  for (const char* key : required) {
    const std::string f = rewrite(key, "");
    try {
      Model::load(f);
      ADD_FAILURE() << "no error without " << key;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  int shapes = 0;
  for (const TensorView& t : src_->tensors()) {
    if (t.name.rfind("blk.1.", 0) != 0 && t.name.rfind("blk.0.", 0) != 0 && t.name.find("output") == std::string::npos)
      continue;
    if (t.n_dims == 2 && t.ne[0] == t.ne[1]) continue;  // a swap would not change the shape
    const std::string f = rewrite("", t.name);
    try {
      Model::load(f);
      ADD_FAILURE() << "no error for a reshaped " << t.name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(t.name), std::string::npos) << e.what();
      ++shapes;
    }
  }
  EXPECT_GT(shapes, 20);
}

}  // namespace
}  // namespace moeinfer
