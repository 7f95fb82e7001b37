// `moeinfer make-model` (convert/make_model.h) and the streaming writers under it: every arch's tiny
// preset loads and runs in every output form; a GGUF and a directory made with the same seed hold
// the same model (same logits); output is deterministic and independent of the thread count; FP8
// blocks decode back to the BF16 weights; preset shapes have the published parameter counts;
// sharded checkpoints load; the GGUF/safetensors stream writers round-trip and refuse misuse.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/thread_pool.h"
#include "convert/hf_export.h"
#include "convert/make_model.h"
#include "convert/model_presets.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_stream_writer.h"
#include "formats/safetensors.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "engine/session.h"
#include "tensor/fp16.h"
#include "tensor/fp8.h"
#include "tensor/quantize.h"
#include "test_util.h"

namespace moeinfer {
namespace {

struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

MakeModelResult make(const std::string& arch, const std::string& preset, const std::string& out,
                     const std::string& type = "", uint64_t seed = 0, int threads = 2) {
  MakeModelOptions o;
  o.type = type;
  o.seed = seed;
  o.threads = threads;
  o.progress = false;
  return make_model(find_model_preset(arch, preset)->make(), out, o);
}

std::vector<float> run_logits(const std::string& path, int64_t n_tokens, bool mtp = false) {
  LoadOptions lo;
  lo.load_mtp = mtp;
  auto m = Model::load(path, lo);
  Kernels k(resolve_isa(""));
  ThreadPool pool(2);
  SessionOptions so;
  so.context = 64;
  Session s(*m, k, pool, so);
  std::vector<int32_t> tokens;
  for (int64_t i = 0; i < n_tokens; ++i) tokens.push_back(static_cast<int32_t>((i * 37 + 5) % m->config().n_vocab));
  const float* l = s.eval(tokens, true);
  return std::vector<float>(l, l + n_tokens * m->config().n_vocab);
}

void expect_finite(const std::vector<float>& v, const std::string& what) {
  for (float x : v) ASSERT_TRUE(std::isfinite(x)) << what;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every arch's tiny preset, in every output form the arch has, loads with Model::load and runs:
// directories (BF16, and FP8 for DeepSeek) here, GGUFs of every type below.
TEST(MakeModel, TinyPresetsLoadAndRun) {
  const TempDir td;
  for (const std::string arch : {"llama", "mistral", "deepseek_v3", "deepseek_v2"}) {
    const std::string dir = td.path + "/" + arch;
    const MakeModelResult r = make(arch, "tiny", dir);
    EXPECT_EQ(r.format, "hf");
    EXPECT_EQ(r.n_files, 1);
    expect_finite(run_logits(dir, 9, arch == "deepseek_v3"), arch);
  }
  for (const std::string arch : {"deepseek_v3", "deepseek_v2"}) {
    const std::string dir = td.path + "/" + arch + "-fp8";
    make(arch, "tiny", dir, "fp8");
    expect_finite(run_logits(dir, 9), dir);
  }
}

TEST(MakeModel, TinyGgufLoadsAndRuns) {
  const TempDir td;
  for (const std::string type : {"f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q6_k", "mistral-q8_0"}) {
    const bool mistral = type.rfind("mistral-", 0) == 0;
    const std::string out = td.path + "/" + type + ".gguf";
    EXPECT_EQ(make(mistral ? "mistral" : "llama", "tiny", out, mistral ? type.substr(8) : type).format, "gguf");
    expect_finite(run_logits(out, 9), out);
  }
  // the q8_0 tiny llama is really Q8_0 (its rows allow it everywhere)
  auto g = GgufFile::open(td.path + "/q8_0.gguf");
  EXPECT_EQ(g->find_tensor("blk.1.ffn_down.weight")->type, DType::kQ8_0);
  EXPECT_EQ(g->find_tensor("token_embd.weight")->type, DType::kQ8_0);
  EXPECT_EQ(g->get_uint("general.file_type"), 7u);
  // and the q4_k_m one has llama.cpp's mix: with 2 layers use_more_bits picks layer 1 (>= 7n/8)
  auto k = GgufFile::open(td.path + "/q4_k_m.gguf");
  EXPECT_EQ(k->find_tensor("blk.0.attn_q.weight")->type, DType::kQ4_K);
  EXPECT_EQ(k->find_tensor("blk.0.attn_v.weight")->type, DType::kQ4_K);
  EXPECT_EQ(k->find_tensor("blk.1.attn_v.weight")->type, DType::kQ6_K);
  EXPECT_EQ(k->find_tensor("blk.0.ffn_down.weight")->type, DType::kQ4_K);
  EXPECT_EQ(k->find_tensor("blk.1.ffn_down.weight")->type, DType::kQ6_K);
  EXPECT_EQ(k->find_tensor("output.weight")->type, DType::kQ6_K);
}

// Same seed: the GGUF (q/k rows permuted as llama.cpp's converter does) and the directory are the
// same model. The tiny Mistral's window (64) is longer than the 16 tokens.
TEST(MakeModel, GgufAndDirectoryAreTheSameModel) {
  const TempDir td;
  for (const std::string arch : {"llama", "mistral"}) {
    make(arch, "tiny", td.path + "/" + arch, "f32", 7);
    make(arch, "tiny", td.path + "/" + arch + ".gguf", "f32", 7);
    const std::vector<float> a = run_logits(td.path + "/" + arch, 16), b = run_logits(td.path + "/" + arch + ".gguf", 16);
    double m = 1.0;
    for (float v : a) m = std::max(m, std::fabs(static_cast<double>(v)));
    EXPECT_LE(test::max_abs_diff(a, b), 1e-4 * m) << arch;
  }
}

TEST(MakeModel, DeterministicForAnyThreadCount) {
  const TempDir td;
  make("deepseek_v2", "tiny", td.path + "/a", "bf16", 3, 1);
  make("deepseek_v2", "tiny", td.path + "/b", "bf16", 3, 3);
  make("deepseek_v2", "tiny", td.path + "/c", "bf16", 4, 2);
  EXPECT_EQ(slurp(td.path + "/a/model.safetensors"), slurp(td.path + "/b/model.safetensors"));
  EXPECT_NE(slurp(td.path + "/a/model.safetensors"), slurp(td.path + "/c/model.safetensors"));
  make("llama", "tiny", td.path + "/a.gguf", "q4_k_m", 3, 1);
  make("llama", "tiny", td.path + "/b.gguf", "q4_k_m", 3, 3);
  EXPECT_EQ(slurp(td.path + "/a.gguf"), slurp(td.path + "/b.gguf"));
}

// FP8 like the released DeepSeek-V3 checkpoints: quantization_config, F8_E4M3 Linear weights with
// F32 weight_scale_inv grids, BF16 elsewhere; the blocks decode to the BF16 weights of the same seed
// within E4M3's precision (3 mantissa bits).
TEST(MakeModel, DeepSeekFp8MatchesBf16) {
  const TempDir td;
  make("deepseek_v3", "tiny", td.path + "/fp8", "fp8", 5);
  make("deepseek_v3", "tiny", td.path + "/bf16", "bf16", 5);
  const nlohmann::json c = test::read_json(td.path + "/fp8/config.json");
  EXPECT_EQ(c["quantization_config"]["quant_method"], "fp8");
  EXPECT_EQ(c["quantization_config"]["weight_block_size"], nlohmann::json::array({128, 128}));
  auto f = SafetensorsSet::open_dir(td.path + "/fp8");
  auto b = SafetensorsSet::open_dir(td.path + "/bf16");
  EXPECT_EQ(f->find_tensor("model.embed_tokens.weight")->type, DType::kBF16);
  EXPECT_EQ(f->find_tensor("model.layers.1.mlp.gate.weight")->type, DType::kBF16);
  EXPECT_EQ(f->find_tensor("model.layers.1.mlp.gate.e_score_correction_bias")->type, DType::kF32);
  EXPECT_EQ(f->find_tensor("model.layers.3.eh_proj.weight")->type, DType::kF8_E4M3);  // the MTP layer
  for (const std::string name : {"model.layers.1.mlp.experts.3.down_proj.weight", "model.layers.0.self_attn.kv_a_proj_with_mqa.weight"}) {
    const TensorView* w = f->find_tensor(name);
    const TensorView* s = f->find_tensor(name + "_scale_inv");
    const TensorView* ref = b->find_tensor(name);
    ASSERT_TRUE(w && s && ref) << name;
    ASSERT_EQ(w->type, DType::kF8_E4M3);
    ASSERT_EQ(s->type, DType::kF32);
    const int64_t rows = w->rows(), cols = w->cols(), gc = (cols + 127) / 128;
    EXPECT_EQ(s->ne[0], gc);
    EXPECT_EQ(s->ne[1], (rows + 127) / 128);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t col = 0; col < cols; ++col) {
        float scale;
        std::memcpy(&scale, s->data + 4 * ((r / 128) * gc + col / 128), 4);
        const float got = fp8_e4m3_to_f32(w->data[r * cols + col]) * scale;
        uint16_t h;
        std::memcpy(&h, ref->data + 2 * (r * cols + col), 2);
        const float want = bf16_to_f32(h);
        ASSERT_LE(std::fabs(got - want), std::fabs(want) * (1.0f / 16 + 1.0f / 128) + scale * 0x1p-9f)
            << name << " (" << r << ", " << col << ")";
      }
  }
}

TEST(MakeModel, Fp8Encoding) {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f) continue;  // NaN
    const float v = fp8_e4m3_to_f32(static_cast<uint8_t>(code));
    EXPECT_EQ(f32_to_fp8_e4m3(v), code == 0x80 ? 0x80 : code) << code;
  }
  EXPECT_EQ(f32_to_fp8_e4m3(1000.0f), 0x7e);       // saturates at 448
  EXPECT_EQ(f32_to_fp8_e4m3(-1000.0f), 0xfe);
  EXPECT_EQ(f32_to_fp8_e4m3(1.0625f), 0x38);       // halfway 1 and 1.125: even mantissa
  EXPECT_EQ(f32_to_fp8_e4m3(1.1875f), 0x3a);       // halfway 1.125 and 1.25: even mantissa
  EXPECT_EQ(f32_to_fp8_e4m3(0x1p-10f), 0x00);      // half the smallest subnormal: to even (0)
  EXPECT_EQ(f32_to_fp8_e4m3(0x1.8p-9f), 0x02);     // 1.5 subnormal steps: to even (2)
}

// The presets have the published shapes (parameter counts of the real models).
TEST(MakeModel, PresetParameterCounts) {
  auto params = [](const std::string& arch, const std::string& preset, const std::string& out) {
    MakeModelOptions o;
    o.progress = false;
    o.dry_run = true;
    return make_model(find_model_preset(arch, preset)->make(), out, o).n_params;
  };
  EXPECT_NEAR(params("llama", "llama-3.2-1b", "x.gguf") / 1e9, 1.236, 0.001);
  EXPECT_NEAR(params("llama", "llama-3.1-8b", "x") / 1e9, 8.030, 0.001);
  EXPECT_NEAR(params("mistral", "mistral-7b", "x") / 1e9, 7.248, 0.001);
  EXPECT_NEAR(params("deepseek_v2", "deepseek-v2-lite", "x") / 1e9, 15.706, 0.001);
  EXPECT_NEAR(params("deepseek_v3", "deepseek-v3", "x") / 1e9, 684.5, 1.0);  // 671B + the 14B MTP module
  // nothing was written
  EXPECT_FALSE(std::filesystem::exists("x.gguf"));
  EXPECT_FALSE(std::filesystem::exists("x"));
  const ModelConfig v2 = find_model_preset("deepseek_v2", "deepseek-v2-lite")->make();
  EXPECT_EQ(v2.n_layers, 27);
  EXPECT_EQ(v2.moe->n_experts, 64);
  EXPECT_EQ(v2.moe->n_shared_experts, 2);
  EXPECT_EQ(v2.moe->n_experts_per_tok, 6);
  EXPECT_EQ(v2.mla->q_lora_rank, 0);
}

// Shards: a checkpoint past the shard size is split with an index, and loads as one.
TEST(MakeModel, ShardedCheckpointLoads) {
  const TempDir td;
  auto rows = [](float base) {
    return [base](int64_t row, float* out) {
      for (int i = 0; i < 256; ++i) out[i] = base + static_cast<float>(row) + i / 256.0f;
    };
  };
  std::vector<HfTensor> ts = {{"a.weight", {300, 256}, "F32", rows(0)},
                              {"b.weight", {400, 256}, "BF16", rows(1000)},
                              {"c.weight", {200, 256}, "F8_E4M3", rows(0.5f)},
                              {"d.weight", {256}, "F16", rows(3)}};
  ThreadPool pool(2);
  const HfWriteResult r = write_hf_checkpoint(td.path, "{}\n", ts, pool, nullptr, 200000);
  EXPECT_EQ(r.n_files, 3);
  EXPECT_TRUE(std::filesystem::exists(td.path + "/model.safetensors.index.json"));
  EXPECT_TRUE(std::filesystem::exists(td.path + "/model-00003-of-00003.safetensors"));
  auto set = SafetensorsSet::open_dir(td.path);
  EXPECT_EQ(set->tensors().size(), 5u);
  const TensorView* a = set->find_tensor("a.weight");
  ASSERT_TRUE(a);
  float v;
  std::memcpy(&v, a->data + 4 * (299 * 256 + 3), 4);
  EXPECT_EQ(v, 299 + 3 / 256.0f);
  const TensorView* s = set->find_tensor("c.weight_scale_inv");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ne[0], 2);
  EXPECT_EQ(s->ne[1], 2);
}

// The GGUF stream writer round-trips metadata and tensor data written in pieces, and refuses a
// wrong byte count; an unfinished file is removed.
TEST(MakeModel, GgufStreamWriter) {
  const TempDir td;
  const std::string path = td.path + "/t.gguf";
  std::vector<float> x(64 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  std::vector<uint8_t> q(34 * 2 * 3);
  for (int r = 0; r < 3; ++r) quantize_row(DType::kQ8_0, x.data() + 64 * r, 64, q.data() + 68 * r);
  {
    GgufStreamWriter w(path);
    w.add_string("general.architecture", "test");
    w.add_uint32("n", 7);
    w.add_strings("list", {"a", "bc"});
    w.add_float32s("floats", {1.5f, -2.0f});
    w.add_int32s("ints", {3, -4});
    w.add_bool("flag", true);
    w.add_uint32("n", 8);  // replaces
    w.add_tensor_info("f", DType::kF32, {64, 3});
    w.add_tensor_info("q", DType::kQ8_0, {64, 3});
    w.add_tensor_info("v", DType::kF32, {5});
    w.write_header();
    std::vector<uint8_t> all(reinterpret_cast<uint8_t*>(x.data()), reinterpret_cast<uint8_t*>(x.data()) + x.size() * 4);
    all.insert(all.end(), q.begin(), q.end());
    all.insert(all.end(), all.begin(), all.begin() + 20);
    w.write_data(all.data(), 100);
    w.write_data(all.data() + 100, 718);  // spans from "f" into "q"
    w.write_data(all.data() + 818, all.size() - 818);
    EXPECT_THROW(w.write_data(x.data(), 1), Error);
    w.finish();
  }
  auto g = GgufFile::open(path);
  EXPECT_EQ(g->get_uint("n"), 8u);
  EXPECT_EQ(g->metadata().size(), 6u);
  EXPECT_EQ(g->get_array("list", GgufType::kString).strs, (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(g->get_array("ints", GgufType::kInt32).ints, (std::vector<int64_t>{3, -4}));
  EXPECT_TRUE(g->get_bool("flag", false));
  ASSERT_EQ(g->tensors().size(), 3u);
  EXPECT_EQ(std::memcmp(g->find_tensor("f")->data, x.data(), x.size() * 4), 0);
  EXPECT_EQ(std::memcmp(g->find_tensor("q")->data, q.data(), q.size()), 0);
  EXPECT_EQ(std::memcmp(g->find_tensor("v")->data, x.data(), 20), 0);
  for (const TensorView& t : g->tensors()) EXPECT_EQ((t.data - g->find_tensor("f")->data) % 32, 0);
  EXPECT_EQ(std::filesystem::file_size(path) % 32, 0u);

  const std::string bad = td.path + "/bad.gguf";
  {
    GgufStreamWriter w(bad);
    w.add_tensor_info("f", DType::kF32, {4});
    EXPECT_THROW(w.add_tensor_info("q", DType::kQ8_0, {33}), Error);  // row not a multiple of 32
    w.write_header();
    w.write_data(x.data(), 8);
    EXPECT_THROW(w.finish(), Error);
  }
  EXPECT_FALSE(std::filesystem::exists(bad));
  EXPECT_FALSE(std::filesystem::exists(bad + ".part"));
}

// CLI errors: usage errors exit 2, I/O errors 1, each with one line on stderr.
TEST(MakeModel, Cli) {
  const TempDir td;
  auto expect_error = [](const std::vector<std::string>& args, int status, const std::string& prefix) {
    const test::CliResult e = test::run_cli(args);
    EXPECT_FALSE(e.signaled);
    EXPECT_EQ(e.status, status) << e.err;
    EXPECT_EQ(e.out, "");
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
    EXPECT_EQ(e.err.rfind(prefix, 0), 0u) << e.err;
  };
  const std::string out = td.path + "/m";
  expect_error({"make-model", "--arch", "gpt2", "--preset", "tiny", "-o", out}, 2, "moeinfer: --arch: ");
  expect_error({"make-model", "--arch", "llama", "--preset", "huge", "-o", out}, 2, "moeinfer: --preset: ");
  expect_error({"make-model", "--arch", "llama", "--preset", "tiny"}, 2, "moeinfer: --output: ");
  expect_error({"make-model", "--arch", "llama", "--preset", "tiny", "--type", "fp8", "-o", out + ".gguf"}, 2,
               "moeinfer: --type: ");
  expect_error({"make-model", "--arch", "llama", "--preset", "tiny", "--type", "q8_0", "-o", out}, 2, "moeinfer: --type: ");
  expect_error({"make-model", "--arch", "deepseek_v3", "--preset", "tiny", "--type", "fp8", "-o", out + ".gguf"}, 2,
               "moeinfer: --type: ");
  expect_error({"make-model", "--arch", "llama", "--preset", "tiny", "--seed", "x", "-o", out}, 2, "moeinfer: --seed: ");
  expect_error({"make-model", "--arch", "llama", "--preset", "tiny", "-o", "/nonexistent-dir/m.gguf"}, 1,
               "moeinfer: /nonexistent-dir/m.gguf: ");
  std::filesystem::create_directory(out);
  std::ofstream(out + "/keep.txt") << "x";
  expect_error({"make-model", "--arch", "llama", "--preset", "tiny", "-o", out}, 1, "moeinfer: " + out + ": ");
  EXPECT_TRUE(std::filesystem::exists(out + "/keep.txt"));

  test::CliResult r = test::run_cli({"make-model", "--list-presets"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("deepseek-v2-lite"), std::string::npos);
  r = test::run_cli({"make-model", "--arch", "mistral", "--preset", "tiny", "--type", "q8_0", "--seed", "1", "-o",
                     td.path + "/t.gguf"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("wrote"), std::string::npos);
  r = test::run_cli({"info", "-m", td.path + "/t.gguf"});
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
}  // namespace moeinfer
