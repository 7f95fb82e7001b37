// DeepSeek-V3/V2 against DeepSeek's inference/model.py goldens (tests/data/tiny-deepseek-*, copied
// from the shared test data), in both MLA forms; grouped vs per-token experts; routing order of
// operations on hand-made scores; FP8 E4M3 decoding; bad configs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "model/blocks/moe.h"
#include "model/blocks/routing.h"
#include "model/model.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "tensor/fp8.h"
#include "test_util.h"

namespace moeinfer {
namespace {

void expect_rows(const float* got, const nlohmann::json& rows, int64_t nv, const std::string& what) {
  for (size_t t = 0; t < rows.size(); ++t) {
    std::vector<float> ref = rows[t].get<std::vector<float>>();
    double m = 1.0;
    for (float v : ref) m = std::max(m, std::fabs(static_cast<double>(v)));
    std::vector<float> g(got + t * nv, got + (t + 1) * nv);
    EXPECT_LE(test::max_abs_diff(g, ref), 1e-4 * m) << what << " row " << t;
    EXPECT_EQ(argmax(g.data(), nv), argmax(ref.data(), nv)) << what << " row " << t;
  }
}

class DeepseekGolden : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  std::string dir() const { return test::data_path(std::get<0>(GetParam())); }
  SessionOptions opts(int64_t max_batch) const {
    SessionOptions o;
    o.max_batch = max_batch;
    o.mla_absorbed = std::get<1>(GetParam());
    return o;
  }
};

TEST_P(DeepseekGolden, Logits) {
  auto m = Model::load(dir());
  Kernels k(best_isa());
  ThreadPool pool(2);
  for (const char* f : {"logits_len1.json", "logits_len17.json", "logits_len100.json"}) {
    nlohmann::json g = test::read_json(dir() + "/golden/" + f);
    std::vector<int32_t> toks = g["tokens"].get<std::vector<int32_t>>();
    Session s(*m, k, pool, opts(32));  // 100 tokens run as 4 chunks
    expect_rows(s.eval(toks, true), g["logits"], m->config().n_vocab, f);
  }
}

TEST_P(DeepseekGolden, Greedy32WithStepLogits) {
  auto m = Model::load(dir());
  Kernels k(best_isa());
  ThreadPool pool(2);
  nlohmann::json g = test::read_json(dir() + "/golden/greedy32.json");
  std::vector<int32_t> prompt = g["prompt"].get<std::vector<int32_t>>();
  const int64_t nv = m->config().n_vocab;
  Session s(*m, k, pool, opts(16));
  const float* logits = s.eval(prompt, false);
  std::vector<int32_t> gen;
  std::vector<float> steps;
  for (int i = 0; i < g["n_generated"].get<int>(); ++i) {
    steps.insert(steps.end(), logits, logits + nv);
    int32_t next = argmax(logits, nv);
    gen.push_back(next);
    logits = s.eval(&next, 1, false);
  }
  EXPECT_EQ(gen, g["generated"].get<std::vector<int32_t>>());
  expect_rows(steps.data(), g["step_logits"], nv, "step_logits");
}

INSTANTIATE_TEST_SUITE_P(Models, DeepseekGolden,
                         ::testing::Combine(::testing::Values("tiny-deepseek-v3", "tiny-deepseek-v2-softmax",
                                                              "tiny-deepseek-v3-fp8"),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param) + (std::get<1>(info.param) ? "_absorbed" : "_naive");
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(DeepseekConfig, ReadsEveryFeature) {
  auto v3 = Model::load(test::data_path("tiny-deepseek-v3"));
  const ModelConfig& c = v3->config();
  ASSERT_TRUE(c.mla && c.moe);
  EXPECT_EQ(c.mla->q_lora_rank, 48);
  EXPECT_EQ(c.mla->v_head_dim, 24);
  EXPECT_EQ(c.moe->scoring, MoeScoring::kSigmoid);
  EXPECT_EQ(c.moe->n_group, 4);
  EXPECT_TRUE(v3->weights().layers[1].moe.gate_bias.valid());
  EXPECT_EQ(c.rope.scaling, RopeScaling::kYarn);
  // softmax scale = (16 + 16)^-0.5 · (0.1 · 1.0 · ln 4 + 1)^2
  const double m = 0.1 * std::log(4.0) + 1.0;
  EXPECT_NEAR(c.attn.softmax_scale, m * m / std::sqrt(32.0), 1e-12);
  auto v2 = Model::load(test::data_path("tiny-deepseek-v2-softmax"));
  EXPECT_EQ(v2->config().mla->q_lora_rank, 0);
  EXPECT_EQ(v2->config().moe->scoring, MoeScoring::kSoftmax);
  EXPECT_FALSE(v2->weights().layers[1].moe.gate_bias.valid());
  auto fp8 = Model::load(test::data_path("tiny-deepseek-v3-fp8"));
  EXPECT_EQ(fp8->weights().layers[0].mla.wkv_a.type, DType::kF8_E4M3);
  EXPECT_EQ(fp8->weights().layers[0].mla.wkv_a.scale_cols, 2);  // 144 x 256 in 128-blocks: 2 x 2
}

// The grouped execution (each expert once per batch) equals the per-token loop to float rounding.
TEST(DeepseekMoe, GroupedEqualsPerTokenOn100Tokens) {
  for (const char* name : {"tiny-deepseek-v3", "tiny-deepseek-v2-softmax", "tiny-deepseek-v3-fp8"}) {
    auto m = Model::load(test::data_path(name));
    const ModelConfig& c = m->config();
    Kernels k(best_isa());
    ThreadPool pool(2);
    ResidentExperts experts(m->weights());
    ForwardContext ctx{k, pool, true, &experts};
    const int64_t n = 100;
    RunState s(c, n, 128, pool.size());
    for (int64_t t = 0; t < n; ++t) {
      embedding_row(s.x.data() + t * c.dim, m->weights().tok_embd, (t * 37 + 5) % c.n_vocab);
      rmsnorm(s.xb.data() + t * c.dim, s.x.data() + t * c.dim, m->weights().layers[1].ffn_norm, c.dim, c.norm_eps);
    }
    const MoeWeights& w = m->weights().layers[1].moe;
    moe_block(ctx, c, w, 1, s, n);
    std::vector<float> grouped(s.out.begin(), s.out.begin() + n * c.dim);
    moe_block_per_token(ctx, c, w, 1, s, n);
    std::vector<float> per_token(s.out.begin(), s.out.begin() + n * c.dim);
    double mag = 0.0;
    for (float v : per_token) mag = std::max(mag, std::fabs(static_cast<double>(v)));
    EXPECT_LE(test::max_abs_diff(grouped, per_token), 1e-5 * std::max(1.0, mag)) << name;
  }
}

MoeConfig routing_config(int64_t n, int64_t groups, int64_t topk_group, int64_t topk, bool norm, float scale) {
  MoeConfig c;
  c.n_experts = n;
  c.n_group = groups;
  c.topk_group = topk_group;
  c.n_experts_per_tok = topk;
  c.norm_topk_prob = norm;
  c.routed_scaling_factor = scale;
  return c;
}

// Hand-made scores pin the order of operations of model.py's Gate.forward.
TEST(DeepseekRouting, BiasSelectsTop2SumGroupsUnbiasedWeights) {
  // 8 experts, 4 groups of 2, keep 2 groups, top-2 experts.
  const MoeConfig c = routing_config(8, 4, 2, 2, true, 2.5f);
  const float s[8] = {0.9f, 0.1f, 0.5f, 0.5f, 0.2f, 0.2f, 0.6f, 0.0f};
  const float bias[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.7f};
  // biased: 0.9 0.1 | 0.5 0.5 | 0.2 0.2 | 0.6 0.7; group top-2 sums: 1.0, 1.0, 0.4, 1.3
  // keep groups 3 and 0 (1.3, then the tie 1.0/1.0 resolves to the lower group 0)
  // top-2 of biased among {0.9, 0.1, 0.6, 0.7}: expert 0 (0.9), expert 7 (0.7)
  int32_t ids[2];
  float w[2], scratch[24];
  route_experts(c, s, bias, ids, w, scratch);
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 7);
  // weights from the unbiased scores 0.9 and 0.0, normalized, then x 2.5
  EXPECT_FLOAT_EQ(w[0], 2.5f);
  EXPECT_FLOAT_EQ(w[1], 0.0f);
}

TEST(DeepseekRouting, NoBiasUsesGroupMaxAndNeverRenormalizes) {
  // softmax-style scores, groups scored by their max: group 1 (max 0.3) beats group 0 (0.25+0.2
  // would win under a top-2 sum).
  const MoeConfig c = routing_config(6, 3, 1, 2, false, 2.0f);
  const float s[6] = {0.25f, 0.2f, 0.3f, 0.05f, 0.1f, 0.1f};
  int32_t ids[2];
  float w[2], scratch[18];
  route_experts(c, s, nullptr, ids, w, scratch);
  EXPECT_EQ(ids[0], 2);
  EXPECT_EQ(ids[1], 3);
  EXPECT_FLOAT_EQ(w[0], 0.6f);  // 0.3 x 2, not renormalized
  EXPECT_FLOAT_EQ(w[1], 0.1f);
}

TEST(DeepseekRouting, TiesResolveToLowerIndices) {
  const MoeConfig c = routing_config(4, 2, 1, 2, false, 1.0f);
  const float s[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  int32_t ids[2];
  float w[2], scratch[12];
  route_experts(c, s, nullptr, ids, w, scratch);  // both groups tie: group 0 kept; experts 0, 1
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 1);
  const MoeConfig flat = routing_config(4, 1, 1, 3, false, 1.0f);
  const float t[4] = {0.1f, 0.7f, 0.7f, 0.7f};
  int32_t ids3[3];
  float w3[3];
  route_experts(flat, t, nullptr, ids3, w3, scratch);
  EXPECT_EQ(ids3[0], 1);
  EXPECT_EQ(ids3[1], 2);
  EXPECT_EQ(ids3[2], 3);
}

TEST(Fp8E4M3, DecodesAll256Patterns) {
  int nans = 0;
  for (int b = 0; b < 256; ++b) {
    const float v = fp8_e4m3_to_f32(static_cast<uint8_t>(b));
    if (std::isnan(v)) {
      EXPECT_TRUE(std::isnan(fp8_e4m3_table()[b]));
      ++nans;
      EXPECT_EQ(b & 0x7f, 0x7f) << b;  // only S.1111.111
      continue;
    }
    EXPECT_EQ(fp8_e4m3_table()[b], v);
    EXPECT_FALSE(std::isinf(v));
    EXPECT_LE(std::fabs(v), 448.0f);
    // symmetric in the sign bit
    if (b < 128) {
      EXPECT_EQ(fp8_e4m3_to_f32(static_cast<uint8_t>(b | 0x80)), -v);
    }
    // value = (exp ? 1 + m/8 : m/8) * 2^((exp ? exp : 1) - 7)
    const int e = (b >> 3) & 0xf, m = b & 7;
    const double want = (e ? 1.0 + m / 8.0 : m / 8.0) * std::ldexp(1.0, (e ? e : 1) - 7);
    EXPECT_EQ(std::fabs(v), static_cast<float>(want)) << b;
  }
  EXPECT_EQ(nans, 2);
  EXPECT_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(fp8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(std::signbit(fp8_e4m3_to_f32(0x80)), true);    // -0
}

// Broken DeepSeek configs and FP8 scale grids give clear errors.
class DeepseekBad : public ::testing::Test {
 protected:
  void SetUp() override { root_ = test::temp_dir(); }
  void TearDown() override { std::filesystem::remove_all(root_); }
  // A copy of a tiny model dir with config.json edited.
  std::string variant(const std::string& model, const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    const std::string d = root_ + "/" + name;
    std::filesystem::create_directories(d);
    nlohmann::json c = test::read_json(test::data_path(model + "/config.json"));
    edit(c);
    std::ofstream(d + "/config.json") << c.dump();
    std::filesystem::copy_file(test::data_path(model + "/model.safetensors"), d + "/model.safetensors");
    return d;
  }
  void expect_error(const std::string& dir, const std::string& text) {
    try {
      Model::load(dir);
      ADD_FAILURE() << "expected an error containing " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  }
  std::string root_;
};

TEST_F(DeepseekBad, Configs) {
  expect_error(variant("tiny-deepseek-v3", "groups", [](nlohmann::json& c) { c["n_group"] = 3; }),
               "n_group: expected a divisor of n_routed_experts 16");
  expect_error(variant("tiny-deepseek-v3", "topk_group", [](nlohmann::json& c) { c["topk_group"] = 5; }),
               "topk_group: expected at most n_group 4");
  expect_error(variant("tiny-deepseek-v3", "topk", [](nlohmann::json& c) { c["num_experts_per_tok"] = 9; }),
               "num_experts_per_tok");
  expect_error(variant("tiny-deepseek-v3", "scoring", [](nlohmann::json& c) { c["scoring_func"] = "relu"; }),
               "scoring_func");
  expect_error(variant("tiny-deepseek-v3", "no_lora", [](nlohmann::json& c) { c.erase("kv_lora_rank"); }),
               "kv_lora_rank: required key is missing");
  expect_error(variant("tiny-deepseek-v3", "rope", [](nlohmann::json& c) { c["rope_scaling"]["type"] = "dynamic"; }),
               "rope_scaling.type");
  expect_error(variant("tiny-deepseek-v3-fp8", "fmt", [](nlohmann::json& c) { c["quantization_config"]["fmt"] = "e5m2"; }),
               "quantization_config.fmt");
  expect_error(variant("tiny-deepseek-v3-fp8", "noquant", [](nlohmann::json& c) { c.erase("quantization_config"); }),
               "no fp8 quantization_config");
  // A block size of 64 makes every scale grid the wrong shape.
  expect_error(variant("tiny-deepseek-v3-fp8", "block", [](nlohmann::json& c) {
                 c["quantization_config"]["weight_block_size"] = {64, 64};
               }),
               "expected a scale grid of");
}

TEST_F(DeepseekBad, MissingScaleInv) {
  // Rewrite the FP8 checkpoint without one weight_scale_inv tensor.
  const std::string src = test::data_path("tiny-deepseek-v3-fp8/model.safetensors");
  std::ifstream in(src, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  nlohmann::json h = nlohmann::json::parse(std::string(bytes.data() + 8, n));
  const std::string victim = "model.layers.0.self_attn.o_proj.weight_scale_inv";
  ASSERT_TRUE(h.contains(victim));
  h.erase(victim);  // its data stays in the file, unreferenced
  std::string hs = h.dump();
  const std::string d = root_ + "/noscale";
  std::filesystem::create_directories(d);
  std::filesystem::copy_file(test::data_path("tiny-deepseek-v3-fp8/config.json"), d + "/config.json");
  std::ofstream out(d + "/model.safetensors", std::ios::binary);
  const uint64_t hn = hs.size();
  out.write(reinterpret_cast<const char*>(&hn), 8);
  out.write(hs.data(), hs.size());
  out.write(bytes.data() + 8 + n, bytes.size() - 8 - n);
  out.close();
  expect_error(d, "tensor '" + victim + "': required block-scale grid");
}

}  // namespace
}  // namespace moeinfer
