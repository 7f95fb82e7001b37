// Tokenizer::eog_ids(): the end-of-generation set of GGUF vocabularies (eos, eot, eom) and of
// Hugging Face directories (the tokenizer's eos plus config.json / generation_config.json).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer_test_util.h"

namespace moeinfer {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int32_t>;

struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { fs::remove_all(path); }
};

GgufValue int32_value(int32_t v) {
  GgufValue g;
  g.type = GgufType::kInt32;
  g.i = v;
  return g;
}

// A SentencePiece ("llama") vocabulary: <unk> <s> </s> <|eot|> <|eom|> a
GgufWriter spm_vocab() {
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<|eot|>", "<|eom|>", "a"});
  w.add_int32s("tokenizer.ggml.token_type", {2, 3, 3, 3, 3, 1});
  w.add_uint32("tokenizer.ggml.bos_token_id", 1);
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  return w;
}

std::unique_ptr<Tokenizer> open_written(const GgufWriter& w, const TempDir& td, const std::string& name) {
  const std::string path = td.path + "/" + name;
  w.write(path);
  return open_tokenizer(path);
}

TEST(EogIds, GgufSpmEosAndEot) {
  TempDir td;
  GgufWriter w = spm_vocab();
  w.add_uint32("tokenizer.ggml.eot_token_id", 3);
  const auto t = open_written(w, td, "spm.gguf");
  EXPECT_EQ(t->eos_id(), 2);
  EXPECT_EQ(t->eog_ids(), (Ids{2, 3}));
}

TEST(EogIds, GgufSpmEosEotEomSortedAndUnique) {
  TempDir td;
  GgufWriter w = spm_vocab();
  w.add_uint32("tokenizer.ggml.eom_token_id", 4);
  w.add("tokenizer.ggml.eot_token_id", int32_value(2));  // int32 metadata; the same id as eos
  const auto t = open_written(w, td, "spm.gguf");
  EXPECT_EQ(t->eog_ids(), (Ids{2, 4}));
}

TEST(EogIds, GgufOutOfRangeAndNoneValuesAreIgnored) {
  TempDir td;
  GgufWriter w = spm_vocab();
  w.add_uint32("tokenizer.ggml.eot_token_id", 6);            // one past the vocabulary
  w.add("tokenizer.ggml.eom_token_id", int32_value(-1));     // llama.cpp's "none"
  const auto t = open_written(w, td, "spm.gguf");
  EXPECT_EQ(t->eog_ids(), (Ids{2}));

  GgufWriter none = spm_vocab();
  none.add_uint32("tokenizer.ggml.eot_token_id", 0xffffffffu);
  none.add_uint32("tokenizer.ggml.eom_token_id", 4000000000u);
  EXPECT_EQ(open_written(none, td, "none.gguf")->eog_ids(), (Ids{2}));
}

TEST(EogIds, GgufNonIntegerValueIsAnErrorNamingTheKey) {
  TempDir td;
  GgufWriter w = spm_vocab();
  w.add_string("tokenizer.ggml.eot_token_id", "3");
  try {
    open_written(w, td, "bad.gguf");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.eot_token_id"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.gguf"), std::string::npos) << e.what();
  }
}

TEST(EogIds, GgufByteLevelBpeEosAndEom) {
  TempDir td;
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "llama-bpe");
  w.add_strings("tokenizer.ggml.tokens", {"a", "b", "ab", "<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"});
  w.add_int32s("tokenizer.ggml.token_type", {1, 1, 1, 3, 3, 3});
  w.add_strings("tokenizer.ggml.merges", {"a b"});
  w.add_uint32("tokenizer.ggml.eos_token_id", 5);
  w.add_uint32("tokenizer.ggml.eom_token_id", 4);
  const auto t = open_written(w, td, "bpe.gguf");
  EXPECT_EQ(t->eos_id(), 5);
  EXPECT_EQ(t->eog_ids(), (Ids{4, 5}));
}

TEST(EogIds, GgufWithoutEosHasAnEmptySet) {
  TempDir td;
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "a"});
  w.add_uint32("tokenizer.ggml.eot_token_id", 7);  // beyond the vocabulary: ignored
  const auto t = open_written(w, td, "noeos.gguf");
  EXPECT_EQ(t->eos_id(), -1);
  EXPECT_TRUE(t->eog_ids().empty());
}

TEST(EogIds, RealVocabGgufsAreTheirEos) {
  // llama.cpp's vocab-only files name an eos and neither eot nor eom.
  for (const char* f : {"ggml-vocab-llama-bpe.gguf", "ggml-vocab-llama-spm.gguf", "ggml-vocab-deepseek-llm.gguf"}) {
    const auto t = open_tokenizer(test::vocab_gguf(f));
    ASSERT_GE(t->eos_id(), 0) << f;
    EXPECT_EQ(t->eog_ids(), (Ids{t->eos_id()})) << f;
  }
}

TEST(EogIds, ShippedGgufModelIsItsEos) {
  const auto t = open_tokenizer(test::shipped_model());
  ASSERT_GE(t->eos_id(), 0);
  EXPECT_EQ(t->eog_ids(), (Ids{t->eos_id()}));
}

// A Hugging Face directory holding the real Llama 3 tokenizer (eos_token "<|end_of_text|>").
std::string llama3_dir(const TempDir& td) {
  const std::string dir = td.path + "/llama3";
  fs::create_directory(dir);
  for (const char* f : {"tokenizer.json.gz", "tokenizer_config.json"})
    fs::copy_file(test::tokenizer_dir("llama3") + "/" + f, dir + "/" + f);
  return dir;
}

TEST(EogIds, HfTokenizerAloneIsItsEos) {
  TempDir td;
  const auto t = load_hf_tokenizer(llama3_dir(td));
  EXPECT_EQ(t->eos_id(), 128001);
  EXPECT_EQ(t->eog_ids(), (Ids{128001}));
}

TEST(EogIds, HfGenerationConfigListAndConfigInt) {
  TempDir td;
  const std::string dir = llama3_dir(td);
  // As Llama 3.1 Instruct's files list them (<|end_of_text|>, <|eom_id|>, <|eot_id|>; this is the
  // Llama 3 tokenizer, where 128008 is still a reserved special token).
  test::write_text_file(dir + "/generation_config.json",
                        R"({"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]})");
  test::write_text_file(dir + "/config.json", R"({"eos_token_id": 128009, "vocab_size": 128256})");
  for (const std::string& path : {dir, dir + "/tokenizer.json.gz"}) {  // a directory or the file in it
    const auto t = load_hf_tokenizer(path);
    EXPECT_EQ(t->eos_id(), 128001);
    ASSERT_EQ(t->eog_ids(), (Ids{128001, 128008, 128009})) << path;
    EXPECT_EQ(t->decode({128009}), "<|eot_id|>");
  }
}

TEST(EogIds, HfConfigOnlyWithRealModelConfig) {
  TempDir td;
  const std::string dir = llama3_dir(td);
  // tests/data/tiny-llama3/config.json names eos_token_id 1.
  fs::copy_file(test::data_path("tiny-llama3/config.json"), dir + "/config.json");
  const auto t = load_hf_tokenizer(dir);
  EXPECT_EQ(t->eog_ids(), (Ids{1, 128001}));
}

TEST(EogIds, HfNullNegativeAndOutOfVocabularyValuesAreLeftOut) {
  TempDir td;
  const std::string dir = llama3_dir(td);
  test::write_text_file(dir + "/config.json", R"({"eos_token_id": null})");
  test::write_text_file(dir + "/generation_config.json", R"({"eos_token_id": [-1, 128009, 999999999]})");
  EXPECT_EQ(load_hf_tokenizer(dir)->eog_ids(), (Ids{128001, 128009}));
}

TEST(EogIds, HfMalformedEosTokenIdIsAnErrorNamingFileAndField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"generation_config.json", R"({"eos_token_id": "</s>"})"},
      {"generation_config.json", R"({"eos_token_id": [128001, "x"]})"},
      {"config.json", R"({"eos_token_id": 1.5})"},
      {"config.json", R"({"eos_token_id": {"id": 1}})"},
      {"config.json", R"({"eos_token_id": [null]})"},
  };
  for (const auto& [file, text] : cases) {
    TempDir td;
    const std::string dir = llama3_dir(td);
    test::write_text_file(dir + "/" + file, text);
    try {
      load_hf_tokenizer(dir);
      ADD_FAILURE() << "expected an error for " << file << ": " << text;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(dir + "/" + file), std::string::npos) << msg;
      EXPECT_NE(msg.find("eos_token_id: expected an integer or a list of integers"), std::string::npos) << msg;
    }
  }
}

TEST(EogIds, HfConfigThatIsNotJsonIsAnError) {
  TempDir td;
  const std::string dir = llama3_dir(td);
  test::write_text_file(dir + "/generation_config.json", "{not json");
  EXPECT_THROW(load_hf_tokenizer(dir), Error);
}

}  // namespace
}  // namespace moeinfer
