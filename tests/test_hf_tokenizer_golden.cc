// The four real tokenizers (Llama 2, Mistral, Llama 3, DeepSeek-V3) against their goldens: every
// string exact in all four fields (../shared/testdata/tokenizers/README.md defines them), and the
// llama.cpp vocab suites (GGUF, ids_special_as_text vs .out), through the library and the CLI.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "formats/gguf_reader.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer_test_util.h"

namespace moeinfer {
namespace {

std::string show(const std::vector<int32_t>& v) { return nlohmann::json(v).dump(); }

class HfGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(HfGolden, AllStringsAllFields) {
  const std::string dir = test::tokenizer_dir(GetParam());
  std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(dir);
  const std::vector<nlohmann::json> rows = test::read_jsonl(dir + "/golden.jsonl");
  ASSERT_EQ(rows.size(), 115u);
  for (const nlohmann::json& r : rows) {
    SCOPED_TRACE(r["id"].get<std::string>());
    const std::string text = r["text"];
    const std::vector<int32_t> ids = tok->encode(text, false, true);
    EXPECT_EQ(show(ids), r["ids"].dump());
    EXPECT_EQ(show(tok->encode(text, true, true)), r["ids_with_special"].dump());
    EXPECT_EQ(show(tok->encode(text, false, false)), r["ids_special_as_text"].dump());
    EXPECT_EQ(tok->decode(ids), r["decoded"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, HfGolden, ::testing::Values("llama2", "mistral", "llama3", "deepseek-v3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// BOS and EOS as the interface reports them (generate --text relies on add_bos/bos_id).
TEST(HfTokenizer, SpecialIds) {
  struct Want {
    const char* name;
    int32_t bos, eos;
    int64_t n_vocab;
  };
  for (const Want& w : {Want{"llama2", 1, 2, 32000}, Want{"mistral", 1, 2, 32000}, Want{"llama3", 128000, 128001, 128256},
                        Want{"deepseek-v3", 0, 1, 128815}}) {
    SCOPED_TRACE(w.name);
    std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(test::tokenizer_dir(w.name));
    EXPECT_EQ(tok->bos_id(), w.bos);
    EXPECT_EQ(tok->eos_id(), w.eos);
    EXPECT_TRUE(tok->add_bos());
    EXPECT_EQ(tok->n_vocab(), w.n_vocab);
    EXPECT_EQ(show(tok->encode("", true, true)), "[" + std::to_string(w.bos) + "]");
  }
}

// Streaming pieces concatenate to the decoded text for byte-level and SentencePiece-style BPE.
TEST(HfTokenizer, PiecesConcatenateToText) {
  const std::string text = "Hello, 世界! 👋 3.14\n\tend";
  for (const char* name : {"llama3", "deepseek-v3"}) {
    std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(test::tokenizer_dir(name));
    std::string joined;
    for (int32_t id : tok->encode(text, false, true)) joined += tok->token_to_piece(id);
    EXPECT_EQ(joined, text) << name;
    EXPECT_EQ(tok->token_to_piece(tok->bos_id()), "") << name;  // control tokens stream nothing
  }
  std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(test::tokenizer_dir("llama2"));
  std::string joined;
  for (int32_t id : tok->encode(text, false, true)) joined += tok->token_to_piece(id);
  EXPECT_EQ(joined, " " + text);  // the SentencePiece prefix space; decode() strips it
}

// The CLI as acceptance runs it: tokenize --tokenizer DIR --jsonl golden.jsonl, one line per text.
TEST(HfTokenizer, CliMatchesGolden) {
  const std::string dir = test::tokenizer_dir("deepseek-v3");
  test::CliResult r = test::run_cli({"tokenize", "--tokenizer", dir, "--jsonl", dir + "/golden.jsonl"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<nlohmann::json> want = test::read_jsonl(dir + "/golden.jsonl");
  std::vector<nlohmann::json> got;
  size_t pos = 0;
  for (size_t nl; (nl = r.out.find('\n', pos)) != std::string::npos; pos = nl + 1)
    got.push_back(nlohmann::json::parse(r.out.substr(pos, nl - pos)));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    for (const char* k : {"ids", "ids_with_special", "ids_special_as_text", "decoded"})
      EXPECT_EQ(got[i][k], want[i][k]) << want[i]["id"] << " " << k;
  // The same tokenizer named by its (compressed) file, and -m with the directory.
  r = test::run_cli({"tokenize", "--tokenizer", dir + "/tokenizer.json.gz", "--text", "<｜User｜>你好"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"ids\":[128803,30594],\"ids_with_special\":[0,128803,30594],\"ids_special_as_text\":[128803,30594],"
            "\"decoded\":\"<｜User｜>你好\"}\n");
  r = test::run_cli({"tokenize", "-m", dir, "--text", "<｜User｜>你好"});
  EXPECT_EQ(r.status, 0) << r.err;
}

class LlamaCppVocab : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaCppVocab, SuiteMatches) {
  const std::string file = GetParam();
  std::unique_ptr<GgufFile> g = GgufFile::open(test::vocab_gguf(file));
  std::unique_ptr<Tokenizer> tok = make_gguf_tokenizer(*g);
  const std::vector<test::VocabCase> cases = test::vocab_cases(file);
  ASSERT_GE(cases.size(), 40u);
  for (const test::VocabCase& c : cases) EXPECT_EQ(show(tok->encode(c.text, false, false)), show(c.ids)) << c.text;
}

INSTANTIATE_TEST_SUITE_P(Vocabs, LlamaCppVocab,
                         ::testing::Values("ggml-vocab-llama-spm.gguf", "ggml-vocab-llama-bpe.gguf",
                                           "ggml-vocab-deepseek-llm.gguf", "ggml-vocab-deepseek-coder.gguf"),
                         [](const auto& info) {
                           std::string n = info.param.substr(11, info.param.size() - 16);  // ggml-vocab-X.gguf
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// A Llama-3 GGUF tokenizes like Llama 3's tokenizer.json, special tokens and BOS included.
TEST(GgufBpe, LlamaBpeEqualsLlama3Json) {
  std::unique_ptr<GgufFile> g = GgufFile::open(test::vocab_gguf("ggml-vocab-llama-bpe.gguf"));
  std::unique_ptr<Tokenizer> gguf = make_gguf_tokenizer(*g);
  std::unique_ptr<Tokenizer> json = load_hf_tokenizer(test::tokenizer_dir("llama3"));
  EXPECT_EQ(gguf->bos_id(), 128000);
  EXPECT_TRUE(gguf->add_bos());
  for (const nlohmann::json& r : test::read_jsonl(test::tokenizer_dir("llama3") + "/golden.jsonl")) {
    const std::string text = r["text"];
    for (bool add : {false, true})
      for (bool parse : {false, true})
        EXPECT_EQ(show(gguf->encode(text, add, parse)), show(json->encode(text, add, parse))) << r["id"];
    EXPECT_EQ(gguf->decode(json->encode(text, false, true)), r["decoded"].get<std::string>()) << r["id"];
  }
}

// DeepSeek GGUFs: user-defined tokens (type 4, e.g. "ü") are matched in every mode and decode to
// themselves; control tokens (type 3) only when parse_special.
TEST(GgufBpe, UserDefinedAndControlTokens) {
  std::unique_ptr<GgufFile> g = GgufFile::open(test::vocab_gguf("ggml-vocab-deepseek-coder.gguf"));
  std::unique_ptr<Tokenizer> tok = make_gguf_tokenizer(*g);
  EXPECT_EQ(show(tok->encode("ü", false, false)), "[32009]");
  EXPECT_EQ(show(tok->encode("ü", false, true)), "[32009]");
  EXPECT_EQ(tok->decode({32009}), "ü");
  EXPECT_EQ(show(tok->encode("<｜begin▁of▁sentence｜>", false, true)), "[32013]");
  EXPECT_NE(show(tok->encode("<｜begin▁of▁sentence｜>", false, false)), "[32013]");
  EXPECT_EQ(show(tok->encode("<|User|>", false, false)), "[32019]");  // user-defined
  EXPECT_EQ(show(tok->encode("", true, false)), "[32013]");           // add_bos_token = true
}

TEST(GgufBpe, CliVocabOnlyFile) {
  test::CliResult r = test::run_cli({"tokenize", "-m", test::vocab_gguf("ggml-vocab-deepseek-llm.gguf"), "--text",
                                     "Hello world"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"ids\":[17464,1843],\"ids_with_special\":[100000,17464,1843],", 0), 0u) << r.out;
}

}  // namespace
}  // namespace moeinfer
