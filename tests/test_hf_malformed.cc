// Malformed Hugging Face directories: safetensors files and config.json files that are broken in
// every way the loader must catch. Each must raise moeinfer::Error naming the file and a field
// (never crash, hang or read out of bounds: the suite also runs under ASan/UBSan), and the CLI
// must exit 1 with one line on stderr.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "model/model.h"
#include "test_util.h"

namespace moeinfer {
namespace {

namespace fs = std::filesystem;

// A tiny valid Llama: dim 8, 2 heads, 1 KV head, 1 layer, ffn 16, vocab 16.
nlohmann::json tiny_config() {
  return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"vocab_size", 16},
          {"hidden_size", 8}, {"intermediate_size", 16}, {"num_hidden_layers", 1},
          {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"rms_norm_eps", 1e-5},
          {"max_position_embeddings", 32}, {"rope_theta", 10000.0}, {"tie_word_embeddings", false}};
}

SafetensorsWriter tiny_weights(const std::string& skip = "") {
  SafetensorsWriter w;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    if (name == skip) return;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = 0.01f * static_cast<float>((i * 7) % 13) - 0.05f;
    w.add_f32(name, shape, v);
  };
  add("model.embed_tokens.weight", {16, 8});
  add("model.norm.weight", {8});
  add("lm_head.weight", {16, 8});
  const std::string p = "model.layers.0.";
  add(p + "input_layernorm.weight", {8});
  add(p + "self_attn.q_proj.weight", {8, 8});
  add(p + "self_attn.k_proj.weight", {4, 8});
  add(p + "self_attn.v_proj.weight", {4, 8});
  add(p + "self_attn.o_proj.weight", {8, 8});
  add(p + "post_attention_layernorm.weight", {8});
  add(p + "mlp.gate_proj.weight", {16, 8});
  add(p + "mlp.up_proj.weight", {16, 8});
  add(p + "mlp.down_proj.weight", {8, 16});
  return w;
}

class HfMalformed : public ::testing::Test {
 protected:
  void SetUp() override { root_ = test::temp_dir(); }
  void TearDown() override { fs::remove_all(root_); }

  // A model directory with the given config and safetensors bytes.
  std::string make_dir(const std::string& name, const std::string& config, const std::vector<uint8_t>& st) {
    const std::string d = root_ + "/" + name;
    fs::create_directories(d);
    std::ofstream(d + "/config.json") << config;
    std::ofstream(d + "/model.safetensors", std::ios::binary).write(reinterpret_cast<const char*>(st.data()), st.size());
    return d;
  }
  std::string make_dir(const std::string& name, const nlohmann::json& config, const std::vector<uint8_t>& st) {
    return make_dir(name, config.dump(), st);
  }
  // safetensors bytes from a raw header string and a data section.
  static std::vector<uint8_t> raw(const std::string& header, size_t data_bytes, uint64_t claimed_len = UINT64_MAX) {
    std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
    uint64_t n = claimed_len == UINT64_MAX ? header.size() : claimed_len;
    std::memcpy(out.data(), &n, 8);
    std::memcpy(out.data() + 8, header.data(), header.size());
    return out;
  }
  void expect_error(const std::string& dir, const std::string& must_contain) {
    try {
      Model::load(dir);
      ADD_FAILURE() << dir << ": expected an error containing '" << must_contain << "'";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(must_contain), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  std::string root_;
};

TEST_F(HfMalformed, ValidTinyModelLoads) {
  const std::string d = make_dir("ok", tiny_config(), tiny_weights().serialize());
  auto m = Model::load(d);
  EXPECT_EQ(m->config().dim, 8);
  EXPECT_EQ(m->config().attn.head_dim, 4);
}

TEST_F(HfMalformed, SafetensorsHeaderProblems) {
  const std::string cfg = tiny_config().dump();
  const std::vector<uint8_t> good = tiny_weights().serialize();
  // Truncated inside the length, inside the header, and inside the data.
  for (size_t cut : {size_t{0}, size_t{5}, size_t{20}, size_t{200}, good.size() - 1}) {
    std::vector<uint8_t> t(good.begin(), good.begin() + cut);
    expect_error(make_dir("cut" + std::to_string(cut), cfg, t), "model.safetensors");
  }
  expect_error(make_dir("len_past_eof", cfg, raw("{}", 0, 1000)), "header length");
  expect_error(make_dir("len_huge", cfg, raw("{}", 0, UINT64_MAX - 1)), "header length");
  expect_error(make_dir("bad_json", cfg, raw("{\"a\": [1, 2", 0)), "expected valid JSON");
  expect_error(make_dir("not_object", cfg, raw("[1, 2]", 0)), "expected a JSON object");
  expect_error(make_dir("bad_dtype", cfg, raw(R"({"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8)),
               "dtype F64 is not supported");
  expect_error(make_dir("junk_dtype", cfg, raw(R"({"x":{"dtype":"xyz","shape":[1],"data_offsets":[0,4]}})", 4)),
               "dtype xyz");
  expect_error(make_dir("no_dtype", cfg, raw(R"({"x":{"shape":[1],"data_offsets":[0,4]}})", 4)), "dtype");
  expect_error(make_dir("neg_shape", cfg, raw(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)),
               "dimensions");
  expect_error(make_dir("overflow_shape", cfg,
                        raw(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4)),
               "overflows");
  expect_error(make_dir("five_dims", cfg,
                        raw(R"({"x":{"dtype":"F32","shape":[1,1,1,1,1],"data_offsets":[0,4]}})", 4)),
               "at most 4 dimensions");
  expect_error(make_dir("past_end", cfg, raw(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8)),
               "outside the data section");
  expect_error(make_dir("reversed", cfg, raw(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8)),
               "outside the data section");
  expect_error(make_dir("size_mismatch", cfg, raw(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16)),
               "need 12");
  expect_error(make_dir("overlap", cfg,
                        raw(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                            12)),
               "overlaps");
  expect_error(make_dir("duplicate", cfg,
                        raw(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                            8)),
               "duplicate");
  expect_error(make_dir("bad_offsets", cfg, raw(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4)),
               "data_offsets");
  expect_error(make_dir("bad_metadata", cfg, raw(R"({"__metadata__":{"a":1}})", 0)), "__metadata__");
}

TEST_F(HfMalformed, TensorsThatDoNotFitTheConfig) {
  const std::string cfg = tiny_config().dump();
  expect_error(make_dir("missing", cfg, tiny_weights("model.layers.0.mlp.up_proj.weight").serialize()),
               "tensor 'model.layers.0.mlp.up_proj.weight': required tensor is missing");
  nlohmann::json more_layers = tiny_config();
  more_layers["num_hidden_layers"] = 2;
  expect_error(make_dir("layers", more_layers, tiny_weights().serialize()), "model.layers.1.");
  nlohmann::json wider = tiny_config();
  wider["intermediate_size"] = 24;
  expect_error(make_dir("shape", wider, tiny_weights().serialize()), "expected shape");
}

TEST_F(HfMalformed, ConfigProblems) {
  const std::vector<uint8_t> st = tiny_weights().serialize();
  expect_error(make_dir("cfg_json", std::string("{\"hidden_size\": 8,"), st), "config.json: expected valid JSON");
  expect_error(make_dir("cfg_array", std::string("[]"), st), "config.json: expected a JSON object");
  for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size", "intermediate_size"}) {
    nlohmann::json c = tiny_config();
    c.erase(key);
    expect_error(make_dir(std::string("no_") + key, c, st), std::string(key) + ": required key is missing");
  }
  nlohmann::json c = tiny_config();
  c["hidden_size"] = "eight";
  expect_error(make_dir("str_hidden", c, st), "hidden_size: expected an integer");
  c = tiny_config();
  c["architectures"] = {"GPT2LMHeadModel"};
  c["model_type"] = "gpt2";
  expect_error(make_dir("arch", c, st), "unsupported architecture 'GPT2LMHeadModel'");
  c = tiny_config();
  c["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  expect_error(make_dir("dynamic", c, st), "rope_scaling.rope_type: 'dynamic' is not supported");
  c = tiny_config();
  c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  expect_error(make_dir("llama3_incomplete", c, st), "rope_scaling.low_freq_factor: required key is missing");
  c = tiny_config();
  c["num_key_value_heads"] = 3;
  expect_error(make_dir("kv_heads", c, st), "expected a divisor");
  c = tiny_config();
  c["hidden_act"] = "gelu";
  expect_error(make_dir("act", c, st), "hidden_act");
  c = tiny_config();
  c["sliding_window"] = -4;
  expect_error(make_dir("window", c, st), "sliding_window");
  // A directory without config.json
  const std::string empty = root_ + "/empty";
  fs::create_directories(empty);
  expect_error(empty, "config.json: not found");
}

TEST_F(HfMalformed, ShardIndexProblems) {
  const std::string cfg = tiny_config().dump();
  const std::string d = make_dir("sharded", cfg, tiny_weights().serialize());
  fs::rename(d + "/model.safetensors", d + "/shard-1.safetensors");
  auto write_index = [&](const nlohmann::json& j) { std::ofstream(d + "/model.safetensors.index.json") << j.dump(); };
  nlohmann::json wm;
  auto all = SafetensorsSet::open_file(d + "/shard-1.safetensors");
  for (const TensorView& t : all->tensors()) wm[t.name] = "shard-1.safetensors";
  write_index({{"weight_map", wm}});
  EXPECT_NO_THROW(Model::load(d));  // the well-formed sharded form loads
  nlohmann::json missing_shard = wm;
  missing_shard["model.norm.weight"] = "shard-2.safetensors";
  write_index({{"weight_map", missing_shard}});
  expect_error(d, "shard-2.safetensors");
  nlohmann::json traversal = wm;
  traversal["model.norm.weight"] = "../x.safetensors";
  write_index({{"weight_map", traversal}});
  expect_error(d, "expected a file name in the same directory");
  nlohmann::json ghost = wm;
  ghost["model.ghost.weight"] = "shard-1.safetensors";
  write_index({{"weight_map", ghost}});
  expect_error(d, "tensor 'model.ghost.weight': listed in model.safetensors.index.json but missing");
  write_index({{"metadata", {}}});
  expect_error(d, "weight_map");
}

TEST_F(HfMalformed, CliPrintsOneLine) {
  const std::string d = make_dir("cli_bad", tiny_config(), raw(R"({"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8));
  for (const char* cmd : {"info", "logits"}) {
    std::vector<std::string> args = {cmd, "-m", d};
    if (std::string(cmd) == "logits") args.insert(args.end(), {"--tokens", "1 2"});
    test::CliResult r = test::run_cli(args);
    EXPECT_EQ(r.status, 1) << cmd;
    EXPECT_FALSE(r.signaled);
    EXPECT_TRUE(r.out.empty());
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("moeinfer: " + d + "/model.safetensors: tensor 'x': dtype F64", 0), 0u) << r.err;
  }
  const std::string ok = make_dir("cli_ok", tiny_config(), tiny_weights().serialize());
  test::CliResult r = test::run_cli({"logits", "-m", ok, "--tokens", "1 2 3"});
  EXPECT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["logits"].size(), 3u);
}

}  // namespace
}  // namespace moeinfer
