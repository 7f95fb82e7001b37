// tokenizer.json "pre_tokenizer": splits one normalized text piece into words for the model.
// Each step maps every current word to zero or more sub-words, in order (HF PreTokenizedString);
// empty words are dropped. Supported steps:
//  - Split {pattern: String|Regex, behavior, invert}: behaviors Removed, Isolated,
//    MergedWithPrevious, MergedWithNext, Contiguous, as HF SplitDelimiterBehavior defines them;
//  - ByteLevel {add_prefix_space, use_regex}: optional ' ' prefix (per word), optional split with
//    GPT-2's pattern, then every byte spelled in the byte-level alphabet (byte_level.h);
//  - Metaspace {replacement, prepend_scheme always|first|never (or legacy add_prefix_space), split};
//  - Digits {individual_digits}; Whitespace; WhitespaceSplit; Punctuation {behavior};
//    BertPreTokenizer; Sequence.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/pcre_regex.h"

namespace moeinfer {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class PreTokenizer {
 public:
  static std::unique_ptr<PreTokenizer> from_json(const nlohmann::json& j, const std::string& file,
                                                 const std::string& path);
  // Builders for non-JSON sources (GGUF vocabularies).
  void add_split(std::shared_ptr<Regex> regex, SplitBehavior behavior, bool invert);
  void add_byte_level(bool add_prefix_space, bool use_regex);

  // Splits `text` (one normalized piece; first_piece: it starts at offset 0 of the input text)
  // and appends the words to *words.
  void split(std::string_view text, bool first_piece, std::vector<std::string>* words) const;

 private:
  struct Step {
    enum Kind { kSplit, kLiteralSplit, kByteLevel, kMetaspace } kind = kSplit;
    std::shared_ptr<Regex> regex;  // kSplit
    std::string literal;           // kLiteralSplit: the delimiter; kMetaspace: the replacement
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;
    bool add_prefix_space = false, use_regex = false;  // kByteLevel
    enum Prepend { kAlways, kFirst, kNever } prepend = kAlways;  // kMetaspace
    bool metaspace_split = true;
    static Step of(Kind k) {
      Step s;
      s.kind = k;
      return s;
    }
  };
  void parse(const nlohmann::json& j, const std::string& file, const std::string& path);
  static void apply_split(const Step& st, std::string_view word, std::vector<std::string>* out);
  std::vector<Step> steps_;
};

}  // namespace moeinfer
