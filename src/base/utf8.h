// UTF-8 helpers for tokenizers and JSON output.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace moeinfer {

// Byte length of the UTF-8 sequence starting at s[off], judged from its lead byte alone (as
// llama.cpp does: a stray continuation byte counts as one), clipped to the end of s.
inline size_t utf8_char_len(const std::string& s, size_t off) {
  const unsigned char c = static_cast<unsigned char>(s[off]);
  size_t len = c < 0x80 ? 1 : c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 1;
  return off + len > s.size() ? s.size() - off : len;
}

// Replaces every invalid UTF-8 sequence with U+FFFD (one per maximal invalid subpart, the
// Unicode "best practice" of chapter 3, U+FFFD substitution). A sequence cut off by the end of s
// is invalid too: its valid beginning becomes one U+FFFD.
std::string utf8_sanitize(const std::string& s);

// Length (0..3) of the longest suffix of s that is the valid beginning of a UTF-8 character not
// yet complete: a lead byte C2..F4 followed by fewer continuation bytes than it needs, each in
// the range Unicode Table 3-7 allows at its place. More bytes may complete it, so a streamer
// holds these back. Invariant used by streaming (see engine/utf8_stream.h): with t that length
// and any bytes x, utf8_sanitize(s + x) == utf8_sanitize(s[0, n-t)) + utf8_sanitize(s[n-t, n) + x),
// since the cut is at a lead byte and no maximal invalid subpart runs across a lead byte.
size_t utf8_incomplete_tail(std::string_view s);

}  // namespace moeinfer
