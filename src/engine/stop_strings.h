// Stop strings matched across token boundaries. Generated text arrives one token's piece at a
// time, and a stop string may be spread over several pieces ("<|e" + "nd|" + ">"), may start in
// the middle of a piece and may end in the middle of one ("." + "\n\nUser: more").
//
// StopStrings sits between the UTF-8 streamer and the output: push() takes the next text and
// returns what is safe to show now. It holds back the longest suffix of the text that is a proper
// prefix of some stop string (it may still become a stop string); everything before that suffix
// can no longer be part of a stop string and is returned. When a stop string completes:
//  - push() sets *stopped and returns the text before the stop string that has not been returned
//    yet; the stop string and everything after it (the rest of that piece, held-back text
//    included) are never returned;
//  - the first stop string to complete wins: the one whose occurrence ends earliest in the text;
//    of two ending at the same byte, the longer (it starts earlier). So with stops "ab" and "bc"
//    the text "abc" stops at "ab" and nothing is emitted; with "abcd" and "bc" the text "abcd"
//    stops at "bc" (complete first) and "a" is emitted. The result does not depend on how the text was cut into
//    pieces: it is what feeding the text one byte at a time gives.
//  - afterwards the object stays stopped: push() returns "" with *stopped set, flush() "".
// A false start ("<|e" followed by "xit") is released, in full, as soon as it can no longer
// become a stop string. flush() (generation ended for another reason: EOG token, length limit)
// returns the held-back text.
//
// Matching is byte-exact: no normalization, case folding or Unicode awareness. Give stop strings
// and text in valid UTF-8 (TextStream does) and the held-back suffix always starts at a character
// boundary, so every returned chunk is whole characters. Empty stop strings are ignored; without
// stop strings push() returns its input unchanged.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace moeinfer {

class StopStrings {
 public:
  StopStrings() = default;
  explicit StopStrings(std::vector<std::string> stops);

  // Appends text; returns the text that is safe to emit now. stopped (may be null) is set to
  // whether generation must stop: a stop string has completed, now or before.
  std::string push(std::string_view text, bool* stopped);
  // End of generation without a stop string: returns the held-back text ("" once stopped).
  std::string flush();

  bool stopped() const { return stopped_; }
  // Bytes held back (always below the longest stop string's length).
  size_t pending() const { return held_.size(); }
  const std::vector<std::string>& stops() const { return stops_; }

 private:
  std::vector<std::string> stops_;  // non-empty, duplicates removed
  std::string held_;                // suffix that is a proper prefix of some stop string
  bool stopped_ = false;
};

}  // namespace moeinfer
