// UTF-8-safe streaming of generated text. A token's piece is raw bytes (byte-level BPE and
// SentencePiece byte tokens), so one character may be split over two or more tokens. Utf8Stream
// turns a sequence of byte chunks into valid UTF-8 that is only ever emitted in whole characters.
//
// Contract: for any split of a byte string B into chunks c1..cn,
//   push(c1) + ... + push(cn) + flush() == utf8_sanitize(B)            (base/utf8.h)
// i.e. the stream is what sanitizing the whole text at once gives, with each invalid sequence
// (one maximal invalid subpart) replaced by U+FFFD, however the bytes were cut. push() holds back
// at most 3 bytes: a tail that is the valid beginning of a character still missing bytes; an
// invalid byte is replaced as soon as it is seen to be invalid. flush() (end of generation)
// turns a held-back tail into one U+FFFD.
#pragma once
#include <string>
#include <string_view>

namespace moeinfer {

class Utf8Stream {
 public:
  // Appends bytes; returns the complete characters now available (valid UTF-8, possibly "").
  std::string push(std::string_view bytes);
  // Ends the stream: the held-back tail as U+FFFD ("" when none). The stream is empty afterwards
  // and may be reused.
  std::string flush();
  // Bytes held back (0..3).
  size_t pending() const { return tail_.size(); }

 private:
  std::string tail_;  // an incomplete, so far valid, character
};

}  // namespace moeinfer
