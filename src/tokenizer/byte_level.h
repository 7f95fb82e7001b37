// GPT-2's byte-level alphabet: every byte 0..255 is given a printable Unicode character so that a
// byte string can be stored as text in a vocabulary. Bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF map
// to the code point of the same value; the other 68 bytes (controls, space, 0x7F..0xA0, 0xAD) map,
// in increasing order, to U+0100, U+0101, ... (so ' ' -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace moeinfer {

// Appends the byte-level spelling (UTF-8) of every byte of `bytes` to *out.
void byte_level_encode(std::string_view bytes, std::string* out);

// Maps a byte-level spelled token back to its bytes. Returns false (and leaves *out unspecified
// beyond its original contents) when some character of `text` is not in the alphabet.
bool byte_level_decode(std::string_view text, std::string* out);

}  // namespace moeinfer
