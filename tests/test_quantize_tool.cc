// `moeinfer quantize` (convert/quantize_model.h): type mixes chosen as llama.cpp chooses them, files
// llama.cpp writes byte for byte (stories260K Q8_0 / Q4_0), quality of the quantized models against
// F32 (top-1 agreement and KL over the stories260K golden positions, printed), the Hugging Face ->
// GGUF conversion (q/k permutation: the GGUF gives the directory's logits), and the CLI's errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/thread_pool.h"
#include "convert/quantize_model.h"
#include "formats/gguf_reader.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "model/rope.h"
#include "engine/sampler.h"
#include "engine/session.h"
#include "tensor/quantize.h"
#include "test_util.h"

namespace moeinfer {
namespace {

struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::vector<float> eval_logits(const std::string& model, const std::vector<int32_t>& tokens, int64_t* n_vocab) {
  auto m = Model::load(model);
  Kernels k(resolve_isa(""));
  ThreadPool pool(2);
  SessionOptions o;
  o.max_batch = 64;
  Session s(*m, k, pool, o);
  const float* l = s.eval(tokens, true);
  *n_vocab = m->config().n_vocab;
  return std::vector<float>(l, l + static_cast<int64_t>(tokens.size()) * *n_vocab);
}

// Quantized logits against a reference, per the acceptance: top-1 agreement over the
// positions whose reference top-1/top-2 gap is >= 0.3 (gated), over all positions (reported), and
// the mean KL(ref || got) of the softmax distributions.
struct Agreement {
  int n = 0, gated = 0, agree_gated = 0, agree_all = 0;
  double mean_kl = 0.0, max_abs = 0.0;
  double gated_pct() const { return gated ? 100.0 * agree_gated / gated : 100.0; }
};

Agreement compare(const std::vector<float>& ref, const std::vector<float>& got, int64_t nv) {
  Agreement a;
  a.n = static_cast<int>(ref.size() / nv);
  for (int t = 0; t < a.n; ++t) {
    const float* r = ref.data() + t * nv;
    const float* g = got.data() + t * nv;
    std::vector<float> sorted(r, r + nv);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    const bool same = argmax(r, nv) == argmax(g, nv);
    a.agree_all += same;
    if (sorted[0] - sorted[1] >= 0.3f) {
      ++a.gated;
      a.agree_gated += same;
    }
    double mr = -1e30, mg = -1e30;
    for (int64_t i = 0; i < nv; ++i) {
      mr = std::max(mr, static_cast<double>(r[i]));
      mg = std::max(mg, static_cast<double>(g[i]));
      a.max_abs = std::max(a.max_abs, std::fabs(static_cast<double>(r[i]) - g[i]));
    }
    double zr = 0, zg = 0;
    for (int64_t i = 0; i < nv; ++i) {
      zr += std::exp(r[i] - mr);
      zg += std::exp(g[i] - mg);
    }
    double kl = 0;
    for (int64_t i = 0; i < nv; ++i) {
      const double lp = r[i] - mr - std::log(zr), lq = g[i] - mg - std::log(zg);
      kl += std::exp(lp) * (lp - lq);
    }
    a.mean_kl += kl / a.n;
  }
  return a;
}

uint64_t file_fnv1a(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : ss.str()) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

QuantizeResult quantize(const std::string& in, const std::string& out, const std::string& type) {
  QuantizeOptions o;
  o.mix = find_quant_mix(type)->mix;
  o.threads = 2;
  o.progress = false;
  return quantize_model(in, out, o);
}

std::string type_of(const QuantizeResult& r, const std::string& name) {
  for (const QuantizedTensor& t : r.tensors)
    if (t.name == name) return dtype_name(t.type);
  return "(missing)";
}

// llama.cpp de3ff815's `llama-quantize stories260K.gguf OUT Q8_0` / `Q4_0` (../shared/testdata/quant
// s260-Q8_0.gguf, s260-Q4_0.gguf): our files are the same bytes -- tensor order, types (ffn_down's
// 172-wide rows in F16, the Q4_0 file's output head Q6_K -> Q8_0), metadata, padding and blocks.
TEST(QuantizeTool, Stories260KIsByteIdenticalToLlamaCpp) {
  const TempDir td;
  for (const auto& [type, size, hash] : {std::tuple<std::string, uint64_t, uint64_t>{"q8_0", 379168, 0xb3e97b5ea3a72c60ull},
                                         {"q4_0", 277024, 0x267ccd650aa3c85aull}}) {
    const std::string out = td.path + "/s-" + type + ".gguf";
    const QuantizeResult r = quantize(test::shipped_model(), out, type);
    EXPECT_EQ(std::filesystem::file_size(out), size) << type;
    EXPECT_EQ(file_fnv1a(out), hash) << type;
    EXPECT_EQ(r.n_fallback, type == "q8_0" ? 5 : 6) << type;
    EXPECT_EQ(type_of(r, "blk.0.ffn_down.weight"), "f16") << type;
    EXPECT_EQ(type_of(r, "output.weight"), "q8_0") << type;
    EXPECT_EQ(type_of(r, "token_embd.weight"), type) << type;
    EXPECT_EQ(type_of(r, "blk.4.attn_norm.weight"), "f32") << type;
  }
}

// Q4_K_M on stories260K: no row is a multiple of 256, so everything falls back as llama.cpp's
// tensor_type_fallback says: Q4_K -> Q5_0, Q6_K -> Q8_0 (attn_v of layers 2 and 4, use_more_bits
// for 5 layers; the output head), then F16 for the 172-wide ffn_down.
TEST(QuantizeTool, Stories260KQ4KMFallbacks) {
  const TempDir td;
  const QuantizeResult r = quantize(test::shipped_model(), td.path + "/s.gguf", "q4_k_m");
  EXPECT_EQ(type_of(r, "output.weight"), "q8_0");
  EXPECT_EQ(type_of(r, "token_embd.weight"), "q5_0");
  for (int l = 0; l < 5; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(type_of(r, b + "attn_v.weight"), (l == 2 || l == 4) ? "q8_0" : "q5_0") << l;
    EXPECT_EQ(type_of(r, b + "attn_q.weight"), "q5_0") << l;
    EXPECT_EQ(type_of(r, b + "ffn_up.weight"), "q5_0") << l;
    EXPECT_EQ(type_of(r, b + "ffn_down.weight"), "f16") << l;
    EXPECT_EQ(type_of(r, b + "ffn_norm.weight"), "f32") << l;
  }
  // q4_k is llama.cpp's Q4_K_S: attn_v of the first 4 layers wants Q5_K (falls back to Q5_0 here)
  const QuantizeResult s = quantize(test::shipped_model(), td.path + "/s2.gguf", "q4_k");
  for (const QuantizedTensor& t : s.tensors)
    if (t.name == "blk.0.attn_v.weight") {
      EXPECT_EQ(t.wanted, DType::kQ5_K);
    }
  EXPECT_EQ(type_of(s, "blk.0.attn_v.weight"), "q5_0");
}

// Every mix on stories260K loads and runs; quality against the golden F32 logits (llama.cpp's) over
// the 200 positions of logits_greedy200.json, printed. F32 reproduces the original exactly; F16 and
// Q8_0 agree on >= 99 % of the positions with a top-1/top-2 gap >= 0.3; Q4_0 / Q4_K_M are reported.
TEST(QuantizeTool, Stories260KQualityPerType) {
  const TempDir td;
  const nlohmann::json g = test::read_json(test::data_path("stories260K/logits_greedy200.json"));
  const std::vector<int32_t> tokens = g["tokens"].get<std::vector<int32_t>>();
  std::vector<float> golden;
  for (const auto& row : g["logits"])
    for (float v : row.get<std::vector<float>>()) golden.push_back(v);
  int64_t nv = 0;
  const std::vector<float> original = eval_logits(test::shipped_model(), tokens, &nv);
  for (const std::string type : {"f32", "f16", "bf16", "q8_0", "q4_0", "q6_k", "q4_k", "q4_k_m"}) {
    const std::string out = td.path + "/s-" + type + ".gguf";
    const QuantizeResult r = quantize(test::shipped_model(), out, type);
    int64_t nv2 = 0;
    const std::vector<float> got = eval_logits(out, tokens, &nv2);
    ASSERT_EQ(nv2, nv);
    for (float v : got) ASSERT_TRUE(std::isfinite(v)) << type;
    const Agreement a = compare(golden, got, nv);
    std::printf("[ stories260K %-6s ] %7llu bytes: top-1 agreement %.1f %% (%d/%d positions with gap >= 0.3), %.1f %% of all "
                "%d; mean KL(F32||%s) %.2e; max|dlogit| %.3f\n",
                type.c_str(), static_cast<unsigned long long>(r.out_bytes), a.gated_pct(), a.agree_gated, a.gated,
                100.0 * a.agree_all / a.n, a.n, type.c_str(), a.mean_kl, a.max_abs);
    if (type == "f32") {
      EXPECT_LE(compare(original, got, nv).max_abs, 1e-6) << "the F32 round trip changes the logits";
    }
    if (type == "f32" || type == "f16" || type == "bf16" || type == "q8_0") {
      EXPECT_GE(a.gated_pct(), 99.0) << type;
    }
    if (type == "q8_0") {
      EXPECT_LT(a.mean_kl, 0.01);
    }
  }
}

// Metadata of a GGUF input is carried over (tokenizer included); file type and quantization version
// are set; the data section is 32-aligned.
TEST(QuantizeTool, MetadataCarriedOver) {
  const TempDir td;
  auto in = GgufFile::open(test::shipped_model());
  for (const auto& [type, ftype] : {std::pair<std::string, uint64_t>{"f32", 0}, {"f16", 1}, {"bf16", 32}, {"q8_0", 7},
                                    {"q4_0", 2}, {"q4_k", 14}, {"q4_k_m", 15}, {"q6_k", 18}}) {
    const std::string out = td.path + "/m-" + type + ".gguf";
    quantize(test::shipped_model(), out, type);
    auto o = GgufFile::open(out);
    EXPECT_EQ(o->get_uint("general.file_type"), ftype) << type;
    EXPECT_EQ(o->get_uint("general.quantization_version"), 2u) << type;
    EXPECT_EQ(o->data_offset() % 32, 0u);
    EXPECT_EQ(o->tensors().size(), in->tensors().size());
    for (const GgufKV& kv : in->metadata()) {
      const GgufValue* v = o->find(kv.key);
      ASSERT_NE(v, nullptr) << kv.key;
      EXPECT_EQ(v->type, kv.value.type) << kv.key;
      EXPECT_EQ(v->array_size(), kv.value.array_size()) << kv.key;
      EXPECT_EQ(v->str, kv.value.str) << kv.key;
      EXPECT_EQ(v->strs, kv.value.strs) << kv.key;
    }
  }
}

// A quantized input is dequantized first: Q8_0 -> F32 holds exactly the Q8_0 values.
TEST(QuantizeTool, QuantizedInputIsDequantized) {
  const TempDir td;
  quantize(test::shipped_model(), td.path + "/q8.gguf", "q8_0");
  quantize(td.path + "/q8.gguf", td.path + "/f32.gguf", "f32");
  auto q = GgufFile::open(td.path + "/q8.gguf");
  auto f = GgufFile::open(td.path + "/f32.gguf");
  const TensorView* a = q->find_tensor("blk.1.attn_q.weight");
  const TensorView* b = f->find_tensor("blk.1.attn_q.weight");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->type, DType::kQ8_0);
  ASSERT_EQ(b->type, DType::kF32);
  std::vector<float> x(static_cast<size_t>(a->numel()));
  for (int64_t r = 0; r < a->rows(); ++r) dequantize_row(DType::kQ8_0, a->data + r * a->row_bytes(), a->cols(), x.data() + r * a->cols());
  EXPECT_EQ(std::memcmp(x.data(), b->data, b->nbytes), 0);
}

// Writes `dir`/config.json from `src`'s with `edit` applied, and links its model.safetensors.
std::string folder_variant(const TempDir& td, const std::string& name, const std::string& src,
                           void (*edit)(nlohmann::json*)) {
  const std::string dir = td.path + "/" + name;
  std::filesystem::create_directory(dir);
  nlohmann::json c = test::read_json(src + "/config.json");
  edit(&c);
  std::ofstream(dir + "/config.json") << c.dump();
  std::filesystem::create_symlink(src + "/model.safetensors", dir + "/model.safetensors");
  return dir;
}

void expect_rows_close(const std::vector<float>& ref, const std::vector<float>& got, int64_t nv, size_t n_rows) {
  ASSERT_GE(ref.size(), n_rows * nv);
  ASSERT_GE(got.size(), n_rows * nv);
  for (size_t t = 0; t < n_rows; ++t) {
    std::vector<float> r(ref.begin() + t * nv, ref.begin() + (t + 1) * nv), g(got.begin() + t * nv, got.begin() + (t + 1) * nv);
    double m = 1.0;
    for (float v : r) m = std::max(m, std::fabs(static_cast<double>(v)));
    EXPECT_LE(test::max_abs_diff(r, g), 1e-4 * m) << "row " << t;
    EXPECT_EQ(argmax(r.data(), nv), argmax(g.data(), nv)) << "row " << t;
  }
}

// Hugging Face directory -> GGUF (F32): the q/k rows permuted from rotate_half to interleaved pairs
// give the directory's logits. tiny-llama3's weights without its llama3 rope scaling (100 tokens),
// and tiny-mistral, whose sliding window of 8 becomes the GGUF's context length (8 tokens).
TEST(QuantizeTool, HfDirectoryToGgufKeepsTheLogits) {
  const TempDir td;
  const std::string l3 = folder_variant(td, "llama-plain-rope", test::data_path("tiny-llama3"),
                                        [](nlohmann::json* c) { c->erase("rope_scaling"); });
  const std::vector<int32_t> tokens =
      test::read_json(test::data_path("tiny-llama3/golden/logits_len100.json"))["tokens"].get<std::vector<int32_t>>();
  int64_t nv = 0, nv2 = 0;
  quantize(l3, td.path + "/l3.gguf", "f32");
  expect_rows_close(eval_logits(l3, tokens, &nv), eval_logits(td.path + "/l3.gguf", tokens, &nv2), nv, tokens.size());

  const std::string mistral = test::data_path("tiny-mistral");
  quantize(mistral, td.path + "/m.gguf", "f32");
  auto g = GgufFile::open(td.path + "/m.gguf");
  EXPECT_EQ(g->get_uint("llama.context_length"), 8u);
  std::vector<int32_t> t8 =
      test::read_json(mistral + "/golden/logits_len17.json")["tokens"].get<std::vector<int32_t>>();
  t8.resize(8);
  expect_rows_close(eval_logits(mistral, t8, &nv), eval_logits(td.path + "/m.gguf", t8, &nv2), nv, t8.size());

  // the same through Q8_0: agreement with the directory's F32 logits, printed
  quantize(l3, td.path + "/l3q8.gguf", "q8_0");
  const Agreement a = compare(eval_logits(l3, tokens, &nv), eval_logits(td.path + "/l3q8.gguf", tokens, &nv2), nv);
  std::printf("[ tiny-llama3 (plain rope) q8_0 ] top-1 agreement %.1f %% (%d/%d with gap >= 0.3), %.1f %% of all %d; "
              "mean KL %.2e\n",
              a.gated_pct(), a.agree_gated, a.gated, 100.0 * a.agree_all / a.n, a.n, a.mean_kl);
  EXPECT_GE(a.gated_pct(), 99.0);
}

// Llama 3 rope scaling becomes llama.cpp's rope_freqs.weight: base frequency / factor = the scaled
// frequency the engine computes from config.json, and the GGUF loader applies it.
TEST(QuantizeTool, Llama3RopeFreqs) {
  const TempDir td;
  const std::string dir = test::data_path("tiny-llama3");
  quantize(dir, td.path + "/l3.gguf", "q8_0");
  auto g = GgufFile::open(td.path + "/l3.gguf");
  const TensorView* f = g->find_tensor("rope_freqs.weight");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->type, DType::kF32);
  LoadOptions lo;
  const RopeConfig rope = Model::load(dir, lo)->config().rope;
  ASSERT_EQ(rope.scaling, RopeScaling::kLlama3);
  RopeConfig plain = rope;
  plain.scaling = RopeScaling::kNone;
  const std::vector<float> scaled = rope_inv_freq(rope), base = rope_inv_freq(plain);
  ASSERT_EQ(f->numel(), static_cast<int64_t>(scaled.size()));
  for (size_t i = 0; i < scaled.size(); ++i) {
    float factor;
    std::memcpy(&factor, f->data + 4 * i, 4);
    EXPECT_NEAR(base[i] / factor, scaled[i], 1e-6 * scaled[i]) << i;
  }
  EXPECT_EQ(g->get_uint("llama.rope.dimension_count"), 16u);
  EXPECT_FALSE(g->has("llama.rope.scaling.type"));

  // and the engine reads it back: the F32 GGUF gives the folder's golden logits (100 tokens)
  quantize(dir, td.path + "/l3f32.gguf", "f32");
  const nlohmann::json gold = test::read_json(dir + "/golden/logits_len100.json");
  const std::vector<int32_t> tokens = gold["tokens"].get<std::vector<int32_t>>();
  int64_t nv = 0;
  const std::vector<float> got = eval_logits(td.path + "/l3f32.gguf", tokens, &nv);
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::vector<float> ref = gold["logits"][t].get<std::vector<float>>();
    double m = 1.0;
    for (float v : ref) m = std::max(m, std::fabs(static_cast<double>(v)));
    const std::vector<float> row(got.begin() + static_cast<int64_t>(t) * nv, got.begin() + static_cast<int64_t>(t + 1) * nv);
    EXPECT_LE(test::max_abs_diff(row, ref), 1e-4 * m) << "row " << t;
  }
}

// The CLI: success writes only the file (no stdout, no leftover .part); bad input exits 1 or 2 with
// one line on stderr.
TEST(QuantizeTool, Cli) {
  const TempDir td;
  const std::string in = test::shipped_model(), out = td.path + "/out.gguf";
  test::CliResult r = test::run_cli({"quantize", in, out, "--type", "q8_0", "-t", "2"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("wrote"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".part"));
  r = test::run_cli({"quantize", "--type", "q4_0", "-q", in, td.path + "/b.gguf"});  // options first, quiet
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");

  auto expect_error = [](const std::vector<std::string>& args, int status, const std::string& prefix) {
    const test::CliResult e = test::run_cli(args);
    EXPECT_FALSE(e.signaled);
    EXPECT_EQ(e.status, status) << e.err;
    EXPECT_EQ(e.out, "");
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
    EXPECT_EQ(e.err.rfind(prefix, 0), 0u) << e.err;
  };
  expect_error({"quantize", "/nonexistent/in.gguf", out, "--type", "q8_0"}, 1, "moeinfer: /nonexistent/in.gguf: ");
  expect_error({"quantize", in, out, "--type", "q3_k"}, 2, "moeinfer: --type: ");
  expect_error({"quantize", in, out}, 2, "moeinfer: --type: ");
  expect_error({"quantize", in, "--type", "q8_0"}, 2, "moeinfer: ");
  expect_error({"quantize", in, out, "extra", "--type", "q8_0"}, 2, "moeinfer: extra: ");
  expect_error({"quantize", in, "/nonexistent-dir/out.gguf", "--type", "q8_0"}, 1, "moeinfer: /nonexistent-dir/out.gguf: ");
  expect_error({"quantize", out, out, "--type", "f16"}, 1, "moeinfer: " + out + ": ");
  expect_error({"quantize", test::data_path("tokenizers"), td.path + "/d.gguf", "--type", "q8_0"}, 1, "moeinfer: ");
  EXPECT_FALSE(std::filesystem::exists(td.path + "/d.gguf.part"));
  r = test::run_cli({"quantize", "--help"});
  EXPECT_EQ(r.status, 0);
}

}  // namespace
}  // namespace moeinfer
