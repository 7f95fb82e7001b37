// The text side of a generation loop, one call per generated token:
//
//   token id --tokenizer.token_to_piece--> bytes --Utf8Stream--> whole characters
//            --StopStrings--> text to emit
//
//   TextStream ts({"\nUser:", "</answer>"});
//   for (each generated token id) {
//     if (eog set contains id) break;            // Tokenizer::eog_ids(): not part of the text
//     bool stop = false;
//     emit(ts.push(tok.token_to_piece(id), &stop));
//     if (stop) break;                           // a stop string completed; it was not emitted
//   }
//   emit(ts.flush());                             // "" after a stop; else the held-back text
//
// What is emitted, concatenated, is utf8_sanitize(all the bytes) (invalid sequences as U+FFFD,
// see utf8_stream.h) cut before the first stop string to complete (see stop_strings.h), and every
// chunk is valid UTF-8 made of whole characters. Stop strings are matched against the sanitized
// text; they are themselves sanitized first (a stop string with invalid bytes matches the
// U+FFFD those bytes become).
#pragma once
#include <string>
#include <vector>

#include "engine/stop_strings.h"
#include "engine/utf8_stream.h"

namespace moeinfer {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop_strings = {});

  // Feeds one token's piece (raw bytes); returns the text safe to emit now. stopped (may be
  // null) is set to true when a stop string has completed (now or earlier): generation must end,
  // and later pushes return "".
  std::string push(const std::string& piece, bool* stopped);
  // End of generation: everything still held back (an incomplete character becomes U+FFFD; a
  // partial stop string is released as text). "" once stopped. stopped (may be null) is set when
  // the flushed U+FFFD itself completes a stop string.
  std::string flush(bool* stopped = nullptr);

  bool stopped() const { return stops_.stopped(); }

 private:
  Utf8Stream utf8_;
  StopStrings stops_;
};

}  // namespace moeinfer
