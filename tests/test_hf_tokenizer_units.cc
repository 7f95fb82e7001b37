// The tokenizer.json building blocks on small hand-made inputs: BPE merge order, ignore_merges,
// byte fallback and unknown tokens, added-token matching and its flags, Split behaviours,
// Metaspace, normalizers and decoders.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/hf_decoder.h"
#include "tokenizer/hf_normalizer.h"
#include "tokenizer/hf_pretokenizer.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/pcre_regex.h"
#include "tokenizer/unicode_update.h"
#include "tokenizer_test_util.h"

namespace moeinfer {
namespace {

using Json = nlohmann::json;

// Writes tokenizer.json into a fresh temp directory and loads it.
struct TempTokenizer {
  std::string dir = test::temp_dir();
  std::unique_ptr<Tokenizer> tok;
  explicit TempTokenizer(const Json& j) {
    test::write_text_file(dir + "/tokenizer.json", j.dump());
    tok = load_hf_tokenizer(dir);
  }
  ~TempTokenizer() { std::filesystem::remove_all(dir); }
};

Json bpe(Json vocab, Json merges) {
  return Json{{"model", {{"type", "BPE"}, {"vocab", std::move(vocab)}, {"merges", std::move(merges)}}}};
}

std::vector<int32_t> enc(const Tokenizer& t, const std::string& s, bool parse_special = true) {
  return t.encode(s, false, parse_special);
}

using Ids = std::vector<int32_t>;

TEST(Bpe, MergesByRankThenLeftmost) {
  const Json vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"aa", 6}};
  EXPECT_EQ(enc(*TempTokenizer(bpe(vocab, {"b c", "a b", "a bc"})).tok, "abc"), (Ids{5}));  // a + bc
  EXPECT_EQ(enc(*TempTokenizer(bpe(vocab, {"b c", "a b"})).tok, "abc"), (Ids{0, 4}));       // bc first
  EXPECT_EQ(enc(*TempTokenizer(bpe(vocab, {"a b", "b c"})).tok, "abc"), (Ids{3, 2}));       // ab first
  // Pair form of merges; equal ranks resolve leftmost first.
  EXPECT_EQ(enc(*TempTokenizer(bpe(vocab, Json::array({Json::array({"a", "a"})}))).tok, "aaa"), (Ids{6, 0}));
}

TEST(Bpe, IgnoreMergesEmitsWholeWords) {
  Json j = bpe({{"a", 0}, {"b", 1}, {"c", 2}, {"abc", 3}}, Json::array());
  EXPECT_EQ(enc(*TempTokenizer(j).tok, "abc"), (Ids{0, 1, 2}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(enc(*TempTokenizer(j).tok, "abc"), (Ids{3}));
}

TEST(Bpe, ByteFallbackAndUnknown) {
  Json vocab = {{"<unk>", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}};
  Json j = bpe(vocab, Json::array());
  j["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(enc(*TempTokenizer(j).tok, "aéxy"), (Ids{1, 0, 0, 0}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(enc(*TempTokenizer(j).tok, "aéxya"), (Ids{1, 0, 1}));
  j["model"]["byte_fallback"] = true;
  EXPECT_EQ(enc(*TempTokenizer(j).tok, "aéxy"), (Ids{1, 2, 3, 0}));
  // Without an unknown token, characters that have no id are dropped.
  EXPECT_EQ(enc(*TempTokenizer(bpe(vocab, Json::array())).tok, "xax"), (Ids{1}));
}

Json with_added(Json j, Json added) {
  j["added_tokens"] = std::move(added);
  return j;
}
Json added(int id, const std::string& content, bool special, Json flags = Json::object()) {
  Json a = {{"id", id}, {"content", content}, {"special", special}};
  for (auto it = flags.begin(); it != flags.end(); ++it) a[it.key()] = it.value();
  return a;
}

TEST(AddedTokens, LeftmostLongestAndSpecialMode) {
  const Json base = bpe({{"<", 0}, {"a", 1}, {">", 2}, {" ", 3}, {"b", 4}}, Json::array());
  TempTokenizer t(with_added(base, {added(10, "<a>", true), added(11, "<a><a>", true), added(12, "a>", false)}));
  EXPECT_EQ(enc(*t.tok, "<a><a>"), (Ids{11}));
  EXPECT_EQ(enc(*t.tok, "<a><a><a>"), (Ids{11, 10}));
  EXPECT_EQ(enc(*t.tok, "<a>", /*parse_special=*/false), (Ids{0, 12}));  // special off, non-special on
  EXPECT_EQ(enc(*t.tok, "<a><a>", false), (Ids{0, 12, 0, 12}));
  EXPECT_EQ(enc(*t.tok, "a><a><a>"), (Ids{12, 11}));  // the leftmost match wins over a longer later one
  EXPECT_EQ(t.tok->decode({10, 4}), "<a> b");                            // no decoder: joined with ' '
}

TEST(AddedTokens, StripAndSingleWordFlags) {
  const Json base = bpe({{"x", 0}, {" ", 1}, {"T", 2}}, Json::array());
  TempTokenizer strip(with_added(base, {added(5, "T", false, {{"lstrip", true}, {"rstrip", true}})}));
  EXPECT_EQ(enc(*strip.tok, "x  T \u3000x"), (Ids{0, 5, 0}));
  TempTokenizer word(with_added(base, {added(5, "T", false, {{"single_word", true}})}));
  EXPECT_EQ(enc(*word.tok, "x T x"), (Ids{0, 1, 5, 1, 0}));
  EXPECT_EQ(enc(*word.tok, "xT x"), (Ids{0, 2, 1, 0}));  // touches a word: not the added token
}

std::vector<std::string> pre(const Json& j, const std::string& text, bool first = true) {
  std::vector<std::string> words;
  PreTokenizer::from_json(j, "t.json", "pre_tokenizer")->split(text, first, &words);
  return words;
}
using Words = std::vector<std::string>;

TEST(PreTokenizer, SplitBehaviors) {
  auto split = [](const char* behavior, bool invert = false) {
    return Json{{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
  };
  const std::string s = "a-b--c-";
  EXPECT_EQ(pre(split("Removed"), s), (Words{"a", "b", "c"}));
  EXPECT_EQ(pre(split("Isolated"), s), (Words{"a", "-", "b", "-", "-", "c", "-"}));
  EXPECT_EQ(pre(split("MergedWithPrevious"), s), (Words{"a-", "b-", "-", "c-"}));
  EXPECT_EQ(pre(split("MergedWithNext"), s), (Words{"a", "-b", "-", "-c", "-"}));
  EXPECT_EQ(pre(split("Contiguous"), s), (Words{"a", "-", "b", "--", "c", "-"}));
  EXPECT_EQ(pre(split("Removed", true), s), (Words{"-", "-", "-", "-"}));  // matches kept, one by one
  const Json regex = {{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}{1,3}"}}}, {"behavior", "Isolated"}};
  EXPECT_EQ(pre(regex, "x12345y"), (Words{"x", "123", "45", "y"}));
}

TEST(PreTokenizer, ByteLevelMetaspaceDigits) {
  EXPECT_EQ(pre({{"type", "ByteLevel"}, {"add_prefix_space", true}}, "hi there\n"),
            (Words{"\xc4\xa0hi", "\xc4\xa0there", "\xc4\x8a"}));  // Ġhi Ġthere Ċ
  const Json meta = {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}, {"prepend_scheme", "first"}, {"split", true}};
  EXPECT_EQ(pre(meta, "a b"), (Words{"\xe2\x96\x81" "a", "\xe2\x96\x81" "b"}));
  EXPECT_EQ(pre(meta, "a b", /*first=*/false), (Words{"a", "\xe2\x96\x81" "b"}));
  EXPECT_EQ(pre({{"type", "Digits"}, {"individual_digits", true}}, "a12"), (Words{"a", "1", "2"}));
  EXPECT_EQ(pre({{"type", "Digits"}, {"individual_digits", false}}, "a12b"), (Words{"a", "12", "b"}));
  EXPECT_EQ(pre({{"type", "Whitespace"}}, "hi, you"), (Words{"hi", ",", "you"}));
}

std::string dec(const Json& j, const std::vector<std::string>& tokens) {
  std::vector<DecodePiece> pieces;
  for (const std::string& t : tokens) pieces.push_back({t, false});
  return Decoder::from_json(j, "t.json", "decoder")->decode(pieces);
}

TEST(Decoder, Steps) {
  const Json spm = {{"type", "Sequence"},
                    {"decoders",
                     {{{"type", "Replace"}, {"pattern", {{"String", "\xe2\x96\x81"}}}, {"content", " "}},
                      {{"type", "ByteFallback"}},
                      {{"type", "Fuse"}},
                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  EXPECT_EQ(dec(spm, {"\xe2\x96\x81" "Hi", "<0xE4>", "<0xB8>", "<0x96>", "\xe2\x96\x81" "x"}), "Hi\xe4\xb8\x96 x");
  // An incomplete byte run becomes one U+FFFD per byte.
  EXPECT_EQ(dec(spm, {"a", "<0xE4>", "<0xB8>", "b"}), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
  EXPECT_EQ(dec({{"type", "ByteLevel"}}, {"\xc4\xa0hi", "\xc4\x8a"}), " hi\n");
  EXPECT_EQ(dec({{"type", "ByteLevel"}}, {"\xc3\xa4"}), "\xef\xbf\xbd");  // byte 0xE4 alone
  EXPECT_EQ(dec({{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}, {"prepend_scheme", "always"}},
                {"\xe2\x96\x81" "a", "\xe2\x96\x81" "b"}),
            "a b");
}

TEST(Normalizer, Steps) {
  auto norm = [](const Json& j, std::string s) {
    Normalizer::from_json(j, "t.json", "normalizer")->apply(&s);
    return s;
  };
  const Json seq = {{"type", "Sequence"},
                    {"normalizers",
                     {{{"type", "Prepend"}, {"prepend", "\xe2\x96\x81"}},
                      {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xe2\x96\x81"}}}}};
  EXPECT_EQ(norm(seq, "a b"), "\xe2\x96\x81" "a\xe2\x96\x81" "b");
  EXPECT_EQ(norm(seq, ""), "");
  EXPECT_EQ(norm({{"type", "Replace"}, {"pattern", {{"Regex", " +"}}}, {"content", "_"}}, "a  b c"), "a_b_c");
  EXPECT_EQ(norm({{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}}, " \t a "), "a ");
}

TEST(PostProcessor, TemplateAndConfigRule) {
  Json j = bpe({{"<s>", 0}, {"</s>", 1}, {"a", 2}}, Json::array());
  j["added_tokens"] = {added(0, "<s>", true), added(1, "</s>", true)};
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", "<s>:0 $A:0 </s>:0"},
                         {"special_tokens",
                          {{"<s>", {{"id", "<s>"}, {"ids", {0}}, {"tokens", {"<s>"}}}},
                           {"</s>", {{"id", "</s>"}, {"ids", {1}}, {"tokens", {"</s>"}}}}}}};
  {
    TempTokenizer t(j);
    EXPECT_EQ(t.tok->encode("a", true, true), (Ids{0, 2, 1}));
    EXPECT_EQ(t.tok->bos_id(), 0);
  }
  // tokenizer_config.json of a Llama-family class rebuilds it from add_bos_token / add_eos_token.
  TempTokenizer t(j);
  test::write_text_file(t.dir + "/tokenizer_config.json",
                        R"({"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": false, "add_eos_token": true,
                            "bos_token": {"content": "<s>"}, "eos_token": "</s>"})");
  std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(t.dir);
  EXPECT_EQ(tok->encode("a", true, true), (Ids{2, 1}));
  EXPECT_FALSE(tok->add_bos());
  EXPECT_EQ(tok->eos_id(), 1);
}

// Characters assigned after PCRE2's Unicode 14.0 get their newer categories.
TEST(Regex, NewerUnicodeCategories) {
  auto matches = [](const std::string& pattern, const std::string& text) {
    std::string got;
    Regex(pattern, RegexDialect::kOniguruma, "t.json", "pattern").for_each_match(text, [&](size_t b, size_t e) {
      got += "[" + text.substr(b, e - b) + "]";
    });
    return got;
  };
  const std::string shaking = "\xf0\x9f\xab\xa8";  // U+1FAE8 (Unicode 15.0, So)
  const std::string ext_h = "\xf0\xb1\x8d\x90";    // U+31350 (Unicode 15.0, Lo)
  EXPECT_EQ(matches("\\p{S}+", "a" + shaking + shaking), "[" + shaking + shaking + "]");
  EXPECT_EQ(matches(" ?[\\p{P}\\p{S}]+", "x " + shaking), "[ " + shaking + "]");
  EXPECT_EQ(matches("\\P{S}", shaking), "");
  EXPECT_EQ(matches("[^\\p{L}]", ext_h), "");
  EXPECT_EQ(matches("\\p{Lo}", ext_h), "[" + ext_h + "]");
  // Other syntax is left alone.
  EXPECT_EQ(with_newer_unicode("\\p{Han}[\\]\\p{Zs}][[:alpha:]]\\Q\\p{L}\\E"),
            "\\p{Han}[\\]\\p{Zs}][[:alpha:]]\\Q\\p{L}\\E");
}

}  // namespace
}  // namespace moeinfer
