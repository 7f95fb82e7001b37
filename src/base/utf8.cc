#include "base/utf8.h"

namespace moeinfer {

namespace {

// What a byte allows to follow it as the start of a character (Unicode Table 3-7): len == 0 for
// bytes that cannot start a multi-byte character (ASCII is handled by the callers; 80..C1 and
// F5..FF are never valid leads). [lo, hi] bounds the second byte; later ones are 80..BF.
struct Lead {
  size_t len = 0;
  unsigned lo = 0x80, hi = 0xbf;
};

Lead lead_of(unsigned char c) {
  Lead l;
  if (c >= 0xc2 && c <= 0xdf) l.len = 2;
  else if (c == 0xe0) l.len = 3, l.lo = 0xa0;
  else if (c >= 0xe1 && c <= 0xec) l.len = 3;
  else if (c == 0xed) l.len = 3, l.hi = 0x9f;
  else if (c >= 0xee && c <= 0xef) l.len = 3;
  else if (c == 0xf0) l.len = 4, l.lo = 0x90;
  else if (c >= 0xf1 && c <= 0xf3) l.len = 4;
  else if (c == 0xf4) l.len = 4, l.hi = 0x8f;
  return l;
}

// How many bytes of s[i..] (i at a lead byte of length l.len) form a valid beginning of the
// character: l.len when complete, fewer when a byte is out of range or s ends.
size_t valid_prefix(std::string_view s, size_t i, const Lead& l) {
  size_t k = 1;
  for (; k < l.len && i + k < s.size(); ++k) {
    const unsigned char d = static_cast<unsigned char>(s[i + k]);
    const unsigned a = k == 1 ? l.lo : 0x80, b = k == 1 ? l.hi : 0xbf;
    if (d < a || d > b) break;
  }
  return k;
}

}  // namespace

std::string utf8_sanitize(const std::string& s) {
  static const char kReplacement[] = "\xef\xbf\xbd";
  std::string out;
  out.reserve(s.size());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const Lead l = lead_of(c);
    if (l.len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    const size_t k = valid_prefix(s, i, l);
    if (k == l.len) out.append(s, i, l.len);
    else out += kReplacement;
    i += k;
  }
  return out;
}

size_t utf8_incomplete_tail(std::string_view s) {
  const size_t n = s.size();
  // The character, if any, starts at the last byte that is not a continuation byte (80..BF),
  // at most 3 bytes from the end (a 4-byte character missing at least its last byte).
  for (size_t t = 1; t <= 3 && t <= n; ++t) {
    const unsigned char c = static_cast<unsigned char>(s[n - t]);
    if (c >= 0x80 && c <= 0xbf) continue;
    const Lead l = lead_of(c);
    // Incomplete (needs more than t bytes) and every byte present is in range.
    return l.len > t && valid_prefix(s, n - t, l) == t ? t : 0;
  }
  return 0;
}

}  // namespace moeinfer
