// PCRE2 in Debian 12 (10.42) knows Unicode 14.0; the tokenizers' reference implementations run on
// newer Unicode (the golden files were produced with Unicode 17.0 property data). Characters
// assigned since 14.0 (new emoji, CJK extensions, ...) are unassigned (Cn) to PCRE2, so \p{S} would
// miss 🫨 (U+1FAE8, Unicode 15). This rewrites a pattern so that every general-category escape also
// covers the code points given that category by Unicode 15.0 .. 17.0:
//   \p{X}  outside a class -> [\p{X}<ranges>]     \P{X} outside a class -> [^\p{X}<ranges>]
//   \p{X}  inside a class  -> \p{X}<ranges>       (\P{X} inside a class is left as it is)
// X is a one-letter (L M N P S Z) or two-letter (Lu, Nd, So, ...) category, or L& / LC. Two
// characters changed category since 14.0 without becoming unassigned (U+0295 Ll->Lo,
// U+1171E Mn->Mc); they keep their 14.0 category here.
#pragma once
#include <string>
#include <string_view>

namespace moeinfer {

std::string with_newer_unicode(const std::string& pattern);

// True when text (UTF-8) holds a code point that with_newer_unicode's ranges cover: only then can
// the rewritten pattern match differently from the original, which is faster (smaller classes).
bool has_newer_unicode(std::string_view text);

}  // namespace moeinfer
