// UTF-8 helpers for tokenizers and JSON output.
#pragma once
#include <cstddef>
#include <string>

namespace moeinfer {

// Byte length of the UTF-8 sequence starting at s[off], judged from its lead byte alone (as
// llama.cpp does: a stray continuation byte counts as one), clipped to the end of s.
inline size_t utf8_char_len(const std::string& s, size_t off) {
  const unsigned char c = static_cast<unsigned char>(s[off]);
  size_t len = c < 0x80 ? 1 : c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 1;
  return off + len > s.size() ? s.size() - off : len;
}

// Replaces every invalid UTF-8 sequence with U+FFFD (one per maximal invalid subpart).
std::string utf8_sanitize(const std::string& s);

}  // namespace moeinfer
