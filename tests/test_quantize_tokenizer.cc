// `quantize` of a Hugging Face directory keeps its tokenizer: the GGUF (gpt2 + pre-tokenizer type
// for byte-level BPE, llama + scores for SentencePiece-style BPE) tokenizes every golden string
// exactly as the directory's tokenizer.json does (all four outputs of `tokenize`), and carries its
// special-token ids and chat template. Llama 3, Llama 2, Mistral and DeepSeek-V3 tokenizers from
// tests/data, each beside a tiny random model whose vocabulary matches it.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/gzip_file.h"
#include "test_util.h"

namespace moeinfer::test {
namespace {

namespace fs = std::filesystem;

int64_t tokenizer_size(const std::string& dir) {
  const auto j = nlohmann::json::parse(read_file_maybe_gzip(dir + "/tokenizer.json.gz"));
  int64_t n = 0;
  for (const auto& [k, v] : j["model"]["vocab"].items()) n = std::max<int64_t>(n, v.get<int64_t>() + 1);
  for (const auto& a : j["added_tokens"]) n = std::max<int64_t>(n, a["id"].get<int64_t>() + 1);
  return n;
}

TEST(QuantizeTokenizer, GgufTokenizesLikeTheDirectory) {
  for (const char* name : {"llama3", "llama2", "mistral", "deepseek-v3"}) {
    SCOPED_TRACE(name);
    const std::string src = data_path(std::string("tokenizers/") + name);
    const std::string dir = temp_dir(), model = dir + "/model", gguf = dir + "/model.gguf";
    const int64_t vocab = tokenizer_size(src) + 3;  // a few spare embeddings, padded in the GGUF
    CliResult mk = run_cli({"make-model", "--arch", "llama", "--preset", "tiny", "--vocab", std::to_string(vocab),
                            "--type", "f16", "-q", "-o", model});
    ASSERT_EQ(mk.status, 0) << mk.err;
    for (const auto& e : fs::directory_iterator(src))
      if (e.path().filename() != "golden.jsonl") fs::copy_file(e.path(), fs::path(model) / e.path().filename());
    CliResult q = run_cli({"quantize", model, gguf, "--type", "f16", "-q"});
    ASSERT_EQ(q.status, 0) << q.err;
    EXPECT_EQ(q.err.find("placeholder"), std::string::npos) << q.err;
    const std::string golden = src + "/golden.jsonl";
    CliResult want = run_cli({"tokenize", "--tokenizer", model, "--jsonl", golden});
    CliResult got = run_cli({"tokenize", "--tokenizer", gguf, "--jsonl", golden});
    ASSERT_EQ(want.status, 0) << want.err;
    ASSERT_EQ(got.status, 0) << got.err;
    std::istringstream a(want.out), b(got.out);
    int lines = 0;
    for (std::string la, lb; std::getline(a, la);) {
      ASSERT_TRUE(static_cast<bool>(std::getline(b, lb)));
      EXPECT_EQ(lb, la) << "line " << lines;
      ++lines;
    }
    EXPECT_GT(lines, 50);
    // the model's own ids and template travel too
    CliResult info = run_cli({"info", "-m", gguf});
    ASSERT_EQ(info.status, 0) << info.err;
    const auto j = nlohmann::json::parse(info.out);
    EXPECT_EQ(j["tokenizer"]["n_tokens"], vocab);
    const auto cfg = nlohmann::json::parse(read_file_maybe_gzip(src + "/tokenizer_config.json"));
    EXPECT_EQ(j["chat_template"].get<bool>(), cfg.contains("chat_template"));
    CliResult dir_info = run_cli({"info", "-m", model});
    ASSERT_EQ(dir_info.status, 0) << dir_info.err;
    const auto d = nlohmann::json::parse(dir_info.out);
    EXPECT_EQ(j["tokenizer"]["bos_id"], d["tokenizer"]["bos_id"]);
    EXPECT_EQ(j["tokenizer"]["eos_id"], d["tokenizer"]["eos_id"]);
    EXPECT_EQ(j["tokenizer"]["eog_ids"], d["tokenizer"]["eog_ids"]);
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace moeinfer::test
