// Small code-point helpers over UTF-8 held in string_views (valid UTF-8 is assumed; malformed
// bytes are stepped over one at a time and never read past the end).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moeinfer {

// Length of the sequence whose lead byte is s[off], clipped to the end of s.
inline size_t utf8_seq_len(std::string_view s, size_t off) {
  const unsigned char c = static_cast<unsigned char>(s[off]);
  const size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return off + n > s.size() ? s.size() - off : n;
}

// Start of the character that ends right before off (off > 0).
inline size_t utf8_prev_char_start(std::string_view s, size_t off) {
  size_t p = off - 1;
  for (int k = 0; k < 3 && p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80; ++k) --p;
  return p;
}

// The code point at s[off] (U+FFFD for a malformed sequence).
inline uint32_t utf8_decode_at(std::string_view s, size_t off) {
  const unsigned char c = static_cast<unsigned char>(s[off]);
  const size_t n = utf8_seq_len(s, off);
  if (c < 0x80) return c;
  if (c < 0xC0 || (c < 0xE0 && n < 2) || (c >= 0xE0 && c < 0xF0 && n < 3) || (c >= 0xF0 && n < 4)) return 0xFFFD;
  uint32_t cp = c < 0xE0 ? c & 0x1F : c < 0xF0 ? c & 0x0F : c & 0x07;
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[off + k]) & 0x3F);
  return cp;
}

inline void utf8_append(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Unicode White_Space (Rust's char::is_whitespace, JavaScript's trim minus U+FEFF).
inline bool is_white_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

}  // namespace moeinfer
