// Malformed tokenizer files give one clear moeinfer::Error naming the file and the field; invalid
// UTF-8 and NUL in the input text never crash and follow the documented rule (each maximal invalid
// subpart is read as U+FFFD).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/utf8.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer_test_util.h"

namespace moeinfer {
namespace {

using Json = nlohmann::json;

struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

Json good() {
  return Json{{"model",
               {{"type", "BPE"},
                {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}},
                {"merges", {"a b"}}}},
              {"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "\\p{L}+"}}}, {"behavior", "Isolated"}}}};
}

// Loading `text` as tokenizer.json throws an Error whose message contains the file path and each of
// `needles`.
void expect_load_error(const std::string& text, const std::vector<std::string>& needles) {
  TempDir td;
  const std::string file = td.path + "/tokenizer.json";
  test::write_text_file(file, text);
  try {
    load_hf_tokenizer(file);
    ADD_FAILURE() << "no error for: " << text.substr(0, 200);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file), std::string::npos) << msg;
    for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg << "\n  missing: " << n;
  }
}

TEST(HfTokenizerErrors, GoodBaseLoads) {
  TempDir td;
  test::write_text_file(td.path + "/tokenizer.json", good().dump());
  EXPECT_EQ(load_hf_tokenizer(td.path)->encode("ab ba", false, true), (std::vector<int32_t>{2, 1, 0}));
}

TEST(HfTokenizerErrors, BadJson) {
  expect_load_error("{\"model\": {\"type\": \"BPE\", ", {"expected valid JSON"});
  expect_load_error("", {"expected valid JSON"});
  expect_load_error("[1, 2]", {"expected a JSON object"});
  expect_load_error("{}", {"model"});
}

TEST(HfTokenizerErrors, MergesNamingUnknownTokens) {
  Json j = good();
  j["model"]["merges"] = {"a b", "b zz"};
  expect_load_error(j.dump(), {"model.merges[1]", "'zz'"});
  j["model"]["merges"] = {"b a"};  // "ba" is not in the vocabulary
  expect_load_error(j.dump(), {"model.merges[0]", "'ba'"});
  j["model"]["merges"] = {"ab"};
  expect_load_error(j.dump(), {"model.merges[0]", "two tokens"});
  j["model"]["merges"] = {Json::array({"a"})};
  expect_load_error(j.dump(), {"model.merges[0]"});
}

TEST(HfTokenizerErrors, RegexThatFailsToCompile) {
  Json j = good();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", {{{"type", "Split"}, {"pattern", {{"Regex", "(\\p{L}+"}}}, {"behavior", "Isolated"}}}}};
  expect_load_error(j.dump(), {"pre_tokenizer.pretokenizers[0].pattern", "does not compile", "offset"});
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "[z-a]"}}}, {"behavior", "Isolated"}};
  expect_load_error(j.dump(), {"pre_tokenizer.pattern", "does not compile"});
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\p{Nope}"}}}, {"behavior", "Isolated"}};
  expect_load_error(j.dump(), {"pre_tokenizer.pattern"});
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  expect_load_error(j.dump(), {"pre_tokenizer.behavior", "Sideways"});
}

TEST(HfTokenizerErrors, HugeIds) {
  Json j = good();
  j["model"]["vocab"]["b"] = 1000000000000LL;
  expect_load_error(j.dump(), {"model.vocab[\"b\"]", "token id"});
  j["model"]["vocab"]["b"] = -1;
  expect_load_error(j.dump(), {"model.vocab[\"b\"]", "token id"});
  j["model"]["vocab"]["b"] = 2000000000;  // an int32, but far beyond the 3 tokens there are
  expect_load_error(j.dump(), {"model.vocab", "expected token ids below"});
  j = good();
  j["model"]["vocab"]["b"] = "1";
  expect_load_error(j.dump(), {"model.vocab[\"b\"]", "string"});
  j = good();
  j["added_tokens"] = {{{"id", 4294967296LL}, {"content", "<x>"}, {"special", true}}};
  expect_load_error(j.dump(), {"added_tokens[0].id"});
  j["added_tokens"] = {{{"id", 1500000000}, {"content", "<x>"}, {"special", true}}};
  expect_load_error(j.dump(), {"expected token ids below"});
}

TEST(HfTokenizerErrors, UnsupportedOrMalformedParts) {
  Json j = good();
  j["normalizer"] = {{"type", "NFKC"}};
  expect_load_error(j.dump(), {"normalizer.type", "NFKC"});
  j = good();
  j["model"]["type"] = "WordPiece";
  expect_load_error(j.dump(), {"model.type", "WordPiece"});
  j = good();
  j["model"]["unk_token"] = "<unk>";
  expect_load_error(j.dump(), {"model.unk_token", "<unk>"});
  j = good();
  j["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", "Mystery"}}}}};
  expect_load_error(j.dump(), {"decoder.decoders[0].type", "Mystery"});
  j = good();
  j["post_processor"] = {{"type", "TemplateProcessing"}, {"single", {{{"SpecialToken", {{"id", "<s>"}}}}}}};
  expect_load_error(j.dump(), {"post_processor.single[0]", "<s>"});
  j = good();
  j["added_tokens"] = {{{"content", "<x>"}}};
  expect_load_error(j.dump(), {"added_tokens[0].id"});
}

TEST(HfTokenizerErrors, FilesAndDirectories) {
  TempDir td;
  try {
    load_hf_tokenizer(td.path);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
  }
  test::write_text_file(td.path + "/tokenizer.json.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  EXPECT_THROW(load_hf_tokenizer(td.path), Error);
  test::write_text_file(td.path + "/tokenizer.json", good().dump());
  test::write_text_file(td.path + "/tokenizer_config.json", "{\"bos_token\": \"<nope>\"}");
  EXPECT_THROW(load_hf_tokenizer(td.path), Error);
  EXPECT_THROW(open_tokenizer(td.path + "/missing.json"), Error);
}

// A tiny gpt2 GGUF: unknown pre-tokenizer names and missing merges are errors.
TEST(GgufBpeErrors, PreAndMerges) {
  TempDir td;
  auto make = [&](const std::string& pre, bool merges) {
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    if (!pre.empty()) w.add_string("tokenizer.ggml.pre", pre);
    w.add_strings("tokenizer.ggml.tokens", {"a", "b", "ab"});
    if (merges) w.add_strings("tokenizer.ggml.merges", {"a b"});
    const std::string path = td.path + "/v.gguf";
    w.write(path);
    std::unique_ptr<GgufFile> g = GgufFile::open(path);
    return make_gguf_tokenizer(*g);
  };
  EXPECT_EQ(make("", true)->encode("ab", false, false), (std::vector<int32_t>{2}));  // missing = "default"
  try {
    make("no-such-pre", true);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.pre"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make("llama-bpe", false), Error);
}

// Invalid UTF-8: each maximal invalid subpart is tokenized as U+FFFD; NUL is an ordinary character.
TEST(HfTokenizerInput, InvalidUtf8AndNul) {
  for (const char* name : {"llama2", "llama3", "deepseek-v3"}) {
    SCOPED_TRACE(name);
    std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(test::tokenizer_dir(name));
    const std::string fffd = "\xef\xbf\xbd";
    EXPECT_EQ(tok->encode("a\xff" "b", false, true), tok->encode("a" + fffd + "b", false, true));
    EXPECT_EQ(tok->encode("x\xe4\xb8", false, true), tok->encode("x" + fffd, false, true));
    EXPECT_EQ(tok->encode("\xed\xa0\x80", false, true), tok->encode(fffd + fffd + fffd, false, true));  // surrogate
    EXPECT_EQ(tok->encode("\xc0\xaf", false, true), tok->encode(fffd + fffd, false, true));  // overlong
    const std::string nul("a\0b\0", 4);
    std::vector<int32_t> ids = tok->encode(nul, false, true);
    EXPECT_GE(ids.size(), 3u);
    EXPECT_EQ(tok->decode(ids), nul);
  }
}

// Random bytes through every tokenizer: no crash; byte-level ones round-trip the sanitized text.
TEST(HfTokenizerInput, RandomBytes) {
  std::vector<std::unique_ptr<Tokenizer>> toks;
  for (const char* name : {"llama2", "llama3", "deepseek-v3"}) toks.push_back(load_hf_tokenizer(test::tokenizer_dir(name)));
  for (const char* f : {"ggml-vocab-deepseek-llm.gguf", "ggml-vocab-deepseek-coder.gguf"}) {
    std::unique_ptr<GgufFile> g = GgufFile::open(test::vocab_gguf(f));
    toks.push_back(make_gguf_tokenizer(*g));
  }
  std::mt19937 rng(42);
  const std::string alphabet = std::string("ab <>|\n\t\0\x7f", 10) + "\xc3\xa4\xe4\xb8\x96\xf0\x9f\x98\x80\xff\x80\xed";
  for (int iter = 0; iter < 300; ++iter) {
    std::string s;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) s += rng() % 3 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() & 0xff);
    for (size_t t = 0; t < toks.size(); ++t) {
      for (bool parse : {false, true}) {
        std::vector<int32_t> ids = toks[t]->encode(s, true, parse);
        for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < toks[t]->n_vocab());
        const std::string d = toks[t]->decode(std::vector<int32_t>(ids.begin() + (toks[t]->add_bos() ? 1 : 0), ids.end()));
        EXPECT_EQ(d, utf8_sanitize(d));
        if (t >= 1 && !parse) {
          EXPECT_EQ(d, utf8_sanitize(s)) << t;
        }
      }
    }
  }
}

// Long inputs stay fast and bounded: a 1 MB run of spaces (a backtracking-heavy case for \s+(?!\S))
// and one 200 KB word.
TEST(HfTokenizerInput, LongRuns) {
  std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(test::tokenizer_dir("llama3"));
  EXPECT_FALSE(tok->encode(std::string(1 << 20, ' ') + "x", false, true).empty());
  std::unique_ptr<Tokenizer> spm = load_hf_tokenizer(test::tokenizer_dir("llama2"));
  EXPECT_FALSE(spm->encode(std::string(200000, 'z'), false, true).empty());
}

// The CLI prints U+FFFD for invalid input bytes and exits 0.
TEST(HfTokenizerInput, CliInvalidUtf8) {
  test::CliResult r =
      test::run_cli({"tokenize", "--tokenizer", test::tokenizer_dir("llama3"), "--text", "ok\xff"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"decoded\":\"ok\xef\xbf\xbd\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace moeinfer
