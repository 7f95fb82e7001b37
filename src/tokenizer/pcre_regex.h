// A compiled PCRE2 (8-bit, UTF + UCP, JIT when available) pattern for pre-tokenizer splitting.
//
// Semantics: \p{..} classes, \s, \w, \d and case-insensitive matching follow Unicode (PCRE2_UCP);
// general-category escapes also cover characters assigned after PCRE2's Unicode 14.0, up to
// Unicode 17.0 (unicode_update.h).
// Subjects must be valid UTF-8 (the tokenizers sanitize their input first); they may contain NUL.
// Empty matches are skipped: after one, the search resumes one character later, as Oniguruma's
// and Rust's find_iter do.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace moeinfer {

enum class RegexDialect {
  kOniguruma,  // HF tokenizers (tokenizer.json): '^'/'$' are line anchors, as in Ruby syntax
  kEcmaScript  // llama.cpp's std::regex: '$' only at the end of the subject
};

class Regex {
 public:
  // Throws Error(file, field, "regex ... does not compile: <why> at offset N") on a bad pattern.
  Regex(const std::string& pattern, RegexDialect dialect, const std::string& file, const std::string& field);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  const std::string& pattern() const { return pattern_; }

  // Calls on_match(begin, end) for each non-empty, non-overlapping match in text, left to right
  // (byte offsets into text). Throws Error when the matcher itself fails (resource limits).
  void for_each_match(std::string_view text, const std::function<void(size_t, size_t)>& on_match) const;

 private:
  struct Impl;
  std::string pattern_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moeinfer
