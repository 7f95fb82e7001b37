#include "base/utf8.h"

namespace moeinfer {

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
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xbf;  // allowed range of the second byte (Unicode Table 3-7)
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) len = 3, lo = 0xa0;
    else if (c >= 0xe1 && c <= 0xec) len = 3;
    else if (c == 0xed) len = 3, hi = 0x9f;
    else if (c >= 0xee && c <= 0xef) len = 3;
    else if (c == 0xf0) len = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4) len = 4, hi = 0x8f;
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k < len && i + k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      const unsigned a = k == 1 ? lo : 0x80, b = k == 1 ? hi : 0xbf;
      if (d < a || d > b) break;
    }
    if (k == len) {
      out.append(s, i, len);
      i += len;
    } else {
      out += kReplacement;
      i += k;
    }
  }
  return out;
}

}  // namespace moeinfer
