// DeepSeek Hugging Face folders -> llama.cpp `deepseek2` GGUF (`moeinfer quantize`, `make-model`):
// the F32 conversion of a tiny folder holds exactly the tensors and keys of the public GGUF that
// llama.cpp's converter wrote for the same weights, and reproduces the folder's goldens (naive and
// absorbed MLA, MTP logits included); FP8 folders are dequantized with their block scales; the
// quantized mixes load and stay close; make-model's DeepSeek GGUF is the same model as its folder.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "base/thread_pool.h"
#include "convert/make_model.h"
#include "convert/model_presets.h"
#include "convert/quantize_model.h"
#include "formats/gguf_reader.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "test_util.h"

namespace moeinfer {
namespace {

struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

void convert(const std::string& in, const std::string& out, const std::string& type) {
  QuantizeOptions o;
  o.mix = find_quant_mix(type)->mix;
  o.threads = 2;
  o.progress = false;
  quantize_model(in, out, o);
}

std::vector<float> eval_logits(const std::string& model, const std::vector<int32_t>& tokens, bool absorbed) {
  LoadOptions lo;
  auto m = Model::load(model, lo);
  Kernels k(resolve_isa(""));
  ThreadPool pool(2);
  SessionOptions o;
  o.max_batch = 64;
  o.mla_absorbed = absorbed;
  Session s(*m, k, pool, o);
  const float* l = s.eval(tokens, true);
  return std::vector<float>(l, l + static_cast<int64_t>(tokens.size()) * m->config().n_vocab);
}

// Every row within DESIGN.md's 1e-4 · max(1, max|ref|) of the golden, same argmax.
void expect_golden_rows(const std::vector<float>& got, const nlohmann::json& golden, const std::string& what) {
  const auto& rows = golden["logits"];
  ASSERT_EQ(got.size() % rows.size(), 0u) << what;
  const size_t nv = got.size() / rows.size();
  for (size_t t = 0; t < rows.size(); ++t) {
    const std::vector<float> ref = rows[t].get<std::vector<float>>();
    ASSERT_EQ(ref.size(), nv) << what;
    double m = 1.0;
    for (float v : ref) m = std::max(m, std::fabs(static_cast<double>(v)));
    const std::vector<float> row(got.begin() + static_cast<int64_t>(t * nv), got.begin() + static_cast<int64_t>((t + 1) * nv));
    EXPECT_LE(test::max_abs_diff(row, ref), 1e-4 * m) << what << " row " << t;
    EXPECT_EQ(argmax(row.data(), static_cast<int64_t>(nv)), argmax(ref.data(), static_cast<int64_t>(nv))) << what << " row " << t;
  }
}

const char* const kFolders[] = {"tiny-deepseek-v3", "tiny-deepseek-v2-softmax", "tiny-deepseek-v3-fp8",
                                "tiny-deepseek-v3-mtp"};

// quantize --type f32 on every tiny folder: the folder's goldens, both MLA forms.
TEST(DeepseekExport, F32RoundTripReproducesTheGoldens) {
  const TempDir td;
  for (const std::string name : kFolders) {
    const std::string out = td.path + "/" + name + ".gguf";
    convert(test::data_path(name), out, "f32");
    const nlohmann::json g = test::read_json(test::data_path(name + "/golden/logits_len17.json"));
    const std::vector<int32_t> tokens = g["tokens"].get<std::vector<int32_t>>();
    for (bool absorbed : {false, true})
      expect_golden_rows(eval_logits(out, tokens, absorbed), g, name + (absorbed ? " absorbed" : " naive"));
    auto f = GgufFile::open(out);
    EXPECT_EQ(f->get_string("general.architecture"), "deepseek2");
    EXPECT_EQ(f->get_string("tokenizer.ggml.model"), "none");  // the folders have no tokenizer
    EXPECT_EQ(f->get_uint("deepseek2.attention.head_count_kv"), 1u);
    EXPECT_EQ(f->find_tensor("blk.0.attn_kv_b.weight"), nullptr);  // the current MLA layout
    EXPECT_NE(f->find_tensor("blk.0.attn_k_b.weight"), nullptr);
  }
}

// The MTP folder keeps its MTP block as llama.cpp's nextn block; `logits --mtp` on the GGUF gives
// the golden MTP logits.
TEST(DeepseekExport, MtpLayersBecomeNextnBlocks) {
  const TempDir td;
  const std::string out = td.path + "/mtp.gguf";
  convert(test::data_path("tiny-deepseek-v3-mtp"), out, "f32");
  auto f = GgufFile::open(out);
  const uint64_t layers = f->get_uint("deepseek2.block_count");
  EXPECT_EQ(f->get_uint("deepseek2.nextn_predict_layers"), 1u);
  const std::string p = "blk." + std::to_string(layers - 1) + ".nextn.";
  for (const char* n : {"eh_proj.weight", "enorm.weight", "hnorm.weight", "shared_head_norm.weight",
                        "shared_head_head.weight", "embed_tokens.weight"})
    EXPECT_NE(f->find_tensor(p + n), nullptr) << p + n;
  const std::string golden = test::data_path("tiny-deepseek-v3-mtp/golden/logits_len17.json");
  const nlohmann::json g = test::read_json(golden);
  std::string ids;
  for (int32_t t : g["tokens"].get<std::vector<int32_t>>()) ids += (ids.empty() ? "" : " ") + std::to_string(t);
  const std::string json_out = td.path + "/mtp.json";
  const test::CliResult r = test::run_cli({"logits", "-m", out, "--tokens", ids, "--mtp", "-o", json_out});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json got = test::read_json(json_out);
  std::vector<float> flat;
  for (const auto& row : got["mtp_logits"])
    for (float v : row.get<std::vector<float>>()) flat.push_back(v);
  nlohmann::json want;
  want["logits"] = g["mtp_logits"];
  expect_golden_rows(flat, want, "mtp_logits");
}

// The F32 conversion holds the public llama.cpp-converted files' tensors bit for bit, and the same
// deepseek2.* keys (tests/data/gguf holds copies of them).
TEST(DeepseekExport, SameTensorsAndKeysAsLlamaCppsConverter) {
  const TempDir td;
  for (const std::string name : {"tiny-deepseek-v3", "tiny-deepseek-v2-softmax"}) {
    const std::string out = td.path + "/" + name + ".gguf";
    convert(test::data_path(name), out, "f32");
    auto ours = GgufFile::open(out);
    auto ref = GgufFile::open(test::data_path("gguf/" + name + ".gguf"));
    ASSERT_EQ(ours->tensors().size(), ref->tensors().size()) << name;
    for (const TensorView& r : ref->tensors()) {
      const TensorView* o = ours->find_tensor(r.name);
      ASSERT_NE(o, nullptr) << name << " " << r.name;
      for (int d = 0; d < 4; ++d) EXPECT_EQ(o->ne[d], r.ne[d]) << r.name;
      ASSERT_EQ(o->type, r.type) << r.name;
      EXPECT_EQ(std::memcmp(o->data, r.data, r.row_bytes() * static_cast<uint64_t>(r.rows())), 0) << r.name;
    }
    int compared = 0;
    for (const GgufKV& kv : ref->metadata()) {
      if (kv.key.rfind("deepseek2.", 0) != 0) continue;
      const GgufKV* mine = nullptr;
      for (const GgufKV& o : ours->metadata())
        if (o.key == kv.key) mine = &o;
      ASSERT_NE(mine, nullptr) << name << " " << kv.key;
      EXPECT_EQ(static_cast<int>(mine->value.type), static_cast<int>(kv.value.type)) << name << " " << kv.key;
      EXPECT_EQ(mine->value.u, kv.value.u) << name << " " << kv.key;
      EXPECT_EQ(mine->value.f, kv.value.f) << name << " " << kv.key;
      EXPECT_EQ(mine->value.str, kv.value.str) << name << " " << kv.key;
      ++compared;
    }
    EXPECT_GT(compared, 25) << name;
  }
}

// Quantized mixes of the FP8 folder (256-wide rows: real Q4_K/Q6_K blocks next to the fallbacks of
// the narrow MLA tensors) load and run; F16/BF16/Q8_0 stay close to the FP8 model.
TEST(DeepseekExport, QuantizedMixesLoadAndStayClose) {
  const TempDir td;
  const std::string dir = test::data_path("tiny-deepseek-v3-fp8");
  const std::vector<int32_t> tokens =
      test::read_json(dir + "/golden/logits_len17.json")["tokens"].get<std::vector<int32_t>>();
  const std::vector<float> ref = eval_logits(dir, tokens, true);
  double m = 1.0;
  for (float v : ref) m = std::max(m, std::fabs(static_cast<double>(v)));
  for (const std::string type : {"f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q6_k"}) {
    const std::string out = td.path + "/" + type + ".gguf";
    convert(dir, out, type);
    const std::vector<float> got = eval_logits(out, tokens, true);
    const double d = test::max_abs_diff(got, ref);
    std::printf("[ tiny-deepseek-v3-fp8 %s ] max|d| %.3g (max|ref| %.3g)\n", type.c_str(), d, m);
    for (float v : got) ASSERT_TRUE(std::isfinite(v)) << type;
    // 8 bits and more gated; 4-6 bits reported (random routers amplify the error through expert choice)
    if (type == "f16" || type == "bf16" || type == "q8_0") {
      EXPECT_LE(d, 0.1 * m) << type;
    }
  }
}

// make-model: a DeepSeek GGUF and a directory with the same seed are the same model.
TEST(DeepseekExport, MakeModelGgufIsTheDirectorysModel) {
  const TempDir td;
  for (const std::string arch : {"deepseek_v3", "deepseek_v2"}) {
    const ModelConfig c = find_model_preset(arch, "tiny")->make();
    MakeModelOptions o;
    o.type = "f32";
    o.seed = 5;
    o.progress = false;
    make_model(c, td.path + "/" + arch, o);
    make_model(c, td.path + "/" + arch + ".gguf", o);
    const std::vector<int32_t> tokens = {1, 7, 42, 3, 99, 5, 8, 13};
    const std::vector<float> a = eval_logits(td.path + "/" + arch, tokens, true);
    const std::vector<float> b = eval_logits(td.path + "/" + arch + ".gguf", tokens, true);
    double m = 1.0;
    for (float v : a) m = std::max(m, std::fabs(static_cast<double>(v)));
    EXPECT_LE(test::max_abs_diff(a, b), 1e-4 * m) << arch;
  }
}

}  // namespace
}  // namespace moeinfer
