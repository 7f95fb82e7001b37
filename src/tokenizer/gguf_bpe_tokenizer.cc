#include "tokenizer/gguf_bpe_tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/gguf_tokenizer.h"

namespace moeinfer {

namespace {

// The pre-tokenizer regexes llama.cpp (src/llama-vocab.cpp, llm_tokenizer_bpe) uses per
// tokenizer.ggml.pre family. They run with std::regex semantics there: '$' anchors at the end of
// the piece only (RegexDialect::kEcmaScript), and \s matches any Unicode white space.
const char kGpt2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const char kLlama3[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char kQwen2[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Cased letters of the Latin, Greek, Cyrillic, Armenian, Georgian, Cherokee, Glagolitic, Coptic,
// Deseret, Osage, Old Hungarian, Warang Citi and Adlam blocks (DeepSeek LLM's word class).
const char kDeepseekLlmLetters[] =
    "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373"
    "\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F"
    "\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77"
    "\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D"
    "\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4"
    "\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139"
    "\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D"
    "\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A"
    "\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2"
    "\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+";
const char kDeepseekLlmPunct[] = "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+";
const char kCjkHangul[] = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
const char kDeepseekV3Cjk[] = "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+";
const char kDeepseekV3Words[] =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
    "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

struct PreFamily {
  std::vector<const char*> names;  // tokenizer.ggml.pre values
  std::vector<const char*> regexes;
  bool ignore_merges = false;
  bool add_bos = false;  // default when tokenizer.ggml.add_bos_token is absent
};

const std::vector<PreFamily>& families() {
  static const std::vector<PreFamily> f = {
      {{"default"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
       {kLlama3}, true, true},
      {{"dbrx", "smaug-bpe"}, {kLlama3}},
      {{"chatglm-bpe", "glm4"}, {kLlama3}},
      {{"deepseek-llm"}, {"[\r\n]", kDeepseekLlmLetters, kDeepseekLlmPunct, "\\s+$", kCjkHangul, "\\p{N}+"}},
      {{"deepseek-coder"}, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kCjkHangul, "\\p{N}"}},
      {{"deepseek-v3", "hunyuan-dense"}, {"\\p{N}{1,3}", kDeepseekV3Cjk, kDeepseekV3Words}},
      {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}, {"\\p{N}", kGpt2}},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "jina-v1-en", "jina-v2-code",
        "roberta-bpe", "a.x-4.0", "mellum", "mpt", "olmo", "jais", "exaone4", "trillion", "granite-docling"},
       {kGpt2}},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "stablelm2", "megrez", "hunyuan"}, {kQwen2}},
  };
  return f;
}

const PreFamily& find_family(const GgufFile& g, std::string* name) {
  *name = g.get_string("tokenizer.ggml.pre", "default");
  for (const PreFamily& f : families())
    for (const char* n : f.names)
      if (*name == n) return f;
  std::string known;
  for (const PreFamily& f : families())
    for (const char* n : f.names) known += (known.empty() ? "" : ", ") + std::string(n);
  throw Error(g.path(), "tokenizer.ggml.pre", "expected a supported pre-tokenizer (" + known + "), got '" + *name + "'");
}

int32_t token_id_key(const GgufFile& g, const char* key, size_t n) {
  if (!g.has(key)) return -1;
  const uint64_t v = g.get_uint(key);
  if (v == 0xffffffffu) return -1;  // llama.cpp writes -1 as uint32 for "none"
  if (v >= n) throw Error(g.path(), key, "expected a token id below " + std::to_string(n) + ", got " + std::to_string(v));
  return static_cast<int32_t>(v);
}

}  // namespace

std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& g) {
  const std::string& path = g.path();
  std::string pre_name;
  const PreFamily& family = find_family(g, &pre_name);

  const std::vector<std::string>& tokens = g.get_array("tokenizer.ggml.tokens", GgufType::kString).strs;
  const size_t n = tokens.size();
  if (n == 0) throw Error(path, "tokenizer.ggml.tokens", "expected a non-empty array");
  if (n >= static_cast<size_t>(INT32_MAX)) throw Error(path, "tokenizer.ggml.tokens", "too many tokens");
  std::vector<int64_t> types(n, 1);
  if (g.has("tokenizer.ggml.token_type")) {
    const GgufValue& t = g.get_array("tokenizer.ggml.token_type", GgufType::kInt32);
    if (t.ints.size() != n)
      throw Error(path, "tokenizer.ggml.token_type",
                  "expected " + std::to_string(n) + " types (one per token), got " + std::to_string(t.ints.size()));
    types = t.ints;
  }

  Vocab vocab;
  vocab.reserve(n);
  std::vector<AddedToken> added;
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i].empty()) continue;
    const int32_t id = static_cast<int32_t>(i);
    vocab[tokens[i]] = id;  // a repeated string keeps its last id, as in llama.cpp
    const int64_t type = types[i];
    if (type == 2 || type == 3 || type == 4) {
      AddedToken t;
      t.id = id;
      t.content = tokens[i];
      t.special = type != 4;
      added.push_back(std::move(t));
    }
  }

  const std::vector<std::string>& merge_strs = g.get_array("tokenizer.ggml.merges", GgufType::kString).strs;
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(merge_strs.size());
  for (const std::string& m : merge_strs) {
    const size_t sp = m.find(' ', 1);  // a token may itself be " "
    if (sp == std::string::npos) merges.emplace_back("", "");  // keeps the ranks of later merges
    else merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  BpeOptions opts;
  opts.ignore_merges = family.ignore_merges;

  BpeTokenizerParts parts;
  parts.n_vocab = static_cast<int64_t>(n);
  parts.model = std::make_unique<BpeModel>(std::move(vocab), merges, std::move(opts), /*strict=*/false, path);
  parts.added = AddedTokens(std::move(added));
  parts.pre_tokenizer = std::make_unique<PreTokenizer>();
  for (const char* re : family.regexes)
    parts.pre_tokenizer->add_split(
        std::make_shared<Regex>(re, RegexDialect::kEcmaScript, path, "tokenizer.ggml.pre (" + pre_name + ")"),
        SplitBehavior::kIsolated, false);
  parts.pre_tokenizer->add_byte_level(/*add_prefix_space=*/false, /*use_regex=*/false);
  parts.decoder = std::make_unique<Decoder>();
  parts.decoder->add_byte_level();
  parts.bos = token_id_key(g, "tokenizer.ggml.bos_token_id", n);
  parts.eos = token_id_key(g, "tokenizer.ggml.eos_token_id", n);
  parts.eog = gguf_eog_ids(g, static_cast<int64_t>(n));
  if (g.get_bool("tokenizer.ggml.add_bos_token", family.add_bos) && parts.bos >= 0) parts.post.prefix.push_back(parts.bos);
  if (g.get_bool("tokenizer.ggml.add_eos_token", false) && parts.eos >= 0) parts.post.suffix.push_back(parts.eos);
  return std::make_unique<BpeTokenizer>(std::move(parts));
}

}  // namespace moeinfer
