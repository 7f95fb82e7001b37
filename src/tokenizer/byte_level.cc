#include "tokenizer/byte_level.h"

#include <array>

namespace moeinfer {

namespace {

struct ByteTables {
  std::array<std::string, 256> spelling;  // byte -> UTF-8 of its alphabet character
  std::array<int16_t, 512> byte_of;       // alphabet code point (< 512) -> byte, -1 when none

  ByteTables() {
    byte_of.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const int cp = printable ? b : next++;
      byte_of[cp] = static_cast<int16_t>(b);
      std::string& s = spelling[b];
      if (cp < 0x80) {
        s.push_back(static_cast<char>(cp));
      } else {  // all alphabet code points are below 0x800: two UTF-8 bytes
        s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

void byte_level_encode(std::string_view bytes, std::string* out) {
  const ByteTables& t = tables();
  out->reserve(out->size() + bytes.size() * 2);
  for (unsigned char c : bytes) out->append(t.spelling[c]);
}

bool byte_level_decode(std::string_view text, std::string* out) {
  const ByteTables& t = tables();
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    int cp = -1;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size() &&
               (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      i += 2;
    } else {
      return false;  // a character outside U+0000..U+07FF cannot be in the alphabet
    }
    if (cp >= 512 || t.byte_of[cp] < 0) return false;
    out->push_back(static_cast<char>(t.byte_of[cp]));
  }
  return true;
}

}  // namespace moeinfer
