// tokenizer.json "normalizer": applied to each text piece between added tokens, before
// pre-tokenization. Supported: Sequence, Prepend (only to a non-empty piece), Replace (String or
// Regex pattern; the content is literal), Strip (Unicode White_Space, left/right).
// NFC/NFD/NFKC/NFKD, Lowercase, BertNormalizer, Precompiled and others are rejected with an Error
// naming the type (none of the supported tokenizers use them; silently skipping one would change
// token ids).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/pcre_regex.h"

namespace moeinfer {

class Normalizer {
 public:
  // j: the "normalizer" value (an object). An empty Sequence yields a normalizer that does nothing.
  static std::unique_ptr<Normalizer> from_json(const nlohmann::json& j, const std::string& file,
                                               const std::string& path);
  // A normalizer that prepends `prefix` and then replaces every `from` with `to` (SentencePiece
  // style); used by builders other than tokenizer.json.
  void add_prepend(const std::string& prefix);
  void add_replace(const std::string& from, const std::string& to);

  void apply(std::string* s) const;

 private:
  struct Step {
    enum Kind { kPrepend, kReplace, kStrip } kind = kPrepend;
    std::string a, b;                 // Prepend: a; Replace: pattern a (literal) -> b
    std::shared_ptr<Regex> regex;     // Replace with a Regex pattern
    bool left = false, right = false;  // Strip
    static Step of(Kind k, std::string a = "", std::string b = "") {
      Step s;
      s.kind = k;
      s.a = std::move(a);
      s.b = std::move(b);
      return s;
    }
  };
  void parse(const nlohmann::json& j, const std::string& file, const std::string& path);
  std::vector<Step> steps_;
};

}  // namespace moeinfer
