// Streaming generated text: UTF-8 assembly across token boundaries (engine/utf8_stream.h), stop
// strings across token boundaries (engine/stop_strings.h) and the two chained (text_stream.h).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "engine/stop_strings.h"
#include "engine/text_stream.h"
#include "engine/utf8_stream.h"
#include "base/utf8.h"

namespace moeinfer {
namespace {

const std::string kFffd = "\xef\xbf\xbd";  // U+FFFD
const std::string kGrin = "\xf0\x9f\x98\x80";  // U+1F600, 4 bytes

bool valid_utf8(const std::string& s) { return utf8_sanitize(s) == s; }

// ---- Utf8Stream ------------------------------------------------------------------------------

TEST(Utf8Stream, TwoByteCharacterSplitOverTwoPieces) {
  Utf8Stream u;
  EXPECT_EQ(u.push("caf\xc3"), "caf");  // C3 waits for its continuation byte
  EXPECT_EQ(u.pending(), 1u);
  EXPECT_EQ(u.push("\xa9!"), "\xc3\xa9!");  // "é!"
  EXPECT_EQ(u.pending(), 0u);
  EXPECT_EQ(u.flush(), "");
}

TEST(Utf8Stream, FourByteCharacterSplitOverFourPieces) {
  Utf8Stream u;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(u.push(kGrin.substr(i, 1)), "") << "byte " << i;
    EXPECT_EQ(u.pending(), static_cast<size_t>(i + 1));
  }
  EXPECT_EQ(u.push(kGrin.substr(3, 1)), kGrin);
}

TEST(Utf8Stream, FourByteCharacterSplitOverTwoPieces) {
  Utf8Stream u;
  EXPECT_EQ(u.push(std::string("a").append(kGrin, 0, 2)), "a");
  EXPECT_EQ(u.push(kGrin.substr(2) + "b"), kGrin + "b");
}

TEST(Utf8Stream, InvalidBytesBecomeReplacementCharacters) {
  Utf8Stream u;
  EXPECT_EQ(u.push("a\xff" "b"), "a" + kFffd + "b");  // FF is never valid
  EXPECT_EQ(u.push("\xc0\x80"), kFffd + kFffd);        // overlong: C0 is never a lead byte
  EXPECT_EQ(u.push("\xc3"), "");                      // could still become a character ...
  EXPECT_EQ(u.push("("), kFffd + "(");                // ... but '(' is no continuation byte
  EXPECT_EQ(u.push("\xed"), "");
  EXPECT_EQ(u.push("\xa0\x80"), kFffd + kFffd + kFffd);  // ED A0 80 is a surrogate (D800)
  EXPECT_EQ(u.push("\x80"), kFffd);                      // a stray continuation byte
  EXPECT_EQ(u.pending(), 0u);
}

TEST(Utf8Stream, FlushTurnsADanglingTailIntoOneReplacementCharacter) {
  Utf8Stream u;
  EXPECT_EQ(u.push("ok\xe2\x82"), "ok");  // E2 82 AC would be the euro sign
  EXPECT_EQ(u.pending(), 2u);
  EXPECT_EQ(u.flush(), kFffd);
  EXPECT_EQ(u.pending(), 0u);
  EXPECT_EQ(u.flush(), "");
  EXPECT_EQ(u.push("\xac"), kFffd);  // after flush the stream starts afresh: a stray byte
}

TEST(Utf8Stream, IncompleteTailLengths) {
  EXPECT_EQ(utf8_incomplete_tail(""), 0u);
  EXPECT_EQ(utf8_incomplete_tail("abc"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("\xc3\xa9"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("a\xc3"), 1u);
  EXPECT_EQ(utf8_incomplete_tail("\xe2\x82"), 2u);
  EXPECT_EQ(utf8_incomplete_tail("\xf0\x9f\x98"), 3u);
  EXPECT_EQ(utf8_incomplete_tail("\xf0\x8f"), 0u);  // F0 needs 90..BF next: already invalid
  EXPECT_EQ(utf8_incomplete_tail("\xf5"), 0u);      // never a lead byte
  EXPECT_EQ(utf8_incomplete_tail("\xc3\xa9\xa9"), 0u);
}

// Random byte strings (mostly pieces of real characters, some garbage) cut at random points:
// the streamed chunks are whole characters and add up to sanitizing everything at once.
TEST(Utf8Stream, AnySplitEqualsSanitizingTheWhole) {
  std::mt19937 rng(7);
  const std::vector<std::string> atoms = {"a", " ", "\xc3\xa9", "\xe2\x82\xac", kGrin, "\xff", "\x80",
                                          "\xc3", "\xe2\x82", "\xf0\x9f", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
  for (int trial = 0; trial < 2000; ++trial) {
    std::string all;
    const int n_atoms = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n_atoms; ++i) all += atoms[rng() % atoms.size()];
    Utf8Stream u;
    std::string got;
    for (size_t i = 0; i < all.size();) {
      const size_t len = std::min<size_t>(all.size() - i, rng() % 4);
      const std::string chunk = u.push(all.substr(i, len));
      ASSERT_TRUE(valid_utf8(chunk)) << "trial " << trial;
      got += chunk;
      i += len;
    }
    got += u.flush();
    ASSERT_EQ(got, utf8_sanitize(all)) << "trial " << trial;
  }
}

// ---- StopStrings -----------------------------------------------------------------------------

// Feeds pieces; returns what was emitted (flushed at the end unless stopped).
std::string feed(StopStrings& s, const std::vector<std::string>& pieces, bool* stopped) {
  std::string out;
  *stopped = false;
  for (const std::string& p : pieces) {
    out += s.push(p, stopped);
    if (*stopped) return out;
  }
  return out + s.flush();
}

TEST(StopStrings, StopStringSplitOverThreePiecesIsNotEmitted) {
  StopStrings s({"<|end|>"});
  bool stopped = true;
  EXPECT_EQ(s.push("Hello <|", &stopped), "Hello ");  // "<|" may begin the stop string: held
  EXPECT_FALSE(stopped);
  EXPECT_EQ(s.pending(), 2u);
  EXPECT_EQ(s.push("en", &stopped), "");
  EXPECT_FALSE(stopped);
  EXPECT_EQ(s.push("d|>", &stopped), "");
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.flush(), "");
}

TEST(StopStrings, StopStringSplitOverTwoPieces) {
  StopStrings s({"###"});
  bool stopped = false;
  EXPECT_EQ(feed(s, {"one two #", "## three"}, &stopped), "one two ");
  EXPECT_TRUE(stopped);
}

TEST(StopStrings, FalseStartIsEmittedInFull) {
  StopStrings s({"<|end|>"});
  bool stopped = true;
  EXPECT_EQ(s.push("a <|en", &stopped), "a ");
  EXPECT_EQ(s.push("try", &stopped), "<|entry");  // can no longer become "<|end|>"
  EXPECT_FALSE(stopped);
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.push(" and <|end", &stopped), " and ");
  EXPECT_EQ(s.flush(), "<|end");  // generation ended otherwise: held-back text is released
  EXPECT_FALSE(s.stopped());
}

TEST(StopStrings, FalseStartThatOverlapsTheRealOne) {
  // "aaab": the first "aa" is a false start of "aab" and its second 'a' starts the real match.
  StopStrings s({"aab"});
  bool stopped = false;
  EXPECT_EQ(s.push("aa", &stopped), "");
  EXPECT_EQ(s.push("a", &stopped), "a");
  EXPECT_EQ(s.push("b", &stopped), "");
  EXPECT_TRUE(stopped);
}

TEST(StopStrings, StopStringEndingInsideAPieceDropsTheRest) {
  StopStrings s({"END"});
  bool stopped = false;
  EXPECT_EQ(s.push("The answer.\n", &stopped), "The answer.\n");
  EXPECT_EQ(s.push("EN", &stopped), "");
  EXPECT_EQ(s.push("D and more text", &stopped), "");
  EXPECT_TRUE(stopped);
  EXPECT_EQ(s.push("ignored", &stopped), "");  // stays stopped
  EXPECT_TRUE(stopped);

  StopStrings t({"END"});
  EXPECT_EQ(t.push("foo END bar", &stopped), "foo ");  // begins and ends inside one piece
  EXPECT_TRUE(stopped);
}

TEST(StopStrings, SeveralStopStrings) {
  StopStrings s({"User:", "\n\n", "</s>"});
  bool stopped = false;
  EXPECT_EQ(feed(s, {"Sure.", "\n", "\nUser: hi"}, &stopped), "Sure.");
  EXPECT_TRUE(stopped);

  StopStrings t({"User:", "\n\n", "</s>"});
  EXPECT_EQ(feed(t, {"a\nb", "</", "s> c"}, &stopped), "a\nb");
  EXPECT_TRUE(stopped);
}

TEST(StopStrings, OverlappingStopStringsTheFirstToCompleteWins) {
  bool stopped = false;
  {
    StopStrings s({"ab", "bc"});
    EXPECT_EQ(feed(s, {"abc"}, &stopped), "");  // "ab" completes at byte 2, "bc" at 3
    EXPECT_TRUE(stopped);
  }
  {
    StopStrings s({"ab", "bc"});
    EXPECT_EQ(feed(s, {"x", "b", "c"}, &stopped), "x");  // "b" is held, then "bc" completes
    EXPECT_TRUE(stopped);
  }
  {
    StopStrings s({"bc", "ab"});  // order of the list does not matter
    EXPECT_EQ(feed(s, {"a", "bc"}, &stopped), "");
    EXPECT_TRUE(stopped);
  }
  {
    StopStrings s({"abcd", "bc"});  // "bc" completes before "abcd" could
    EXPECT_EQ(feed(s, {"abcd"}, &stopped), "a");
    EXPECT_TRUE(stopped);
  }
  {
    StopStrings s({"c", "abc"});  // both end at the same byte: the longer one cuts earlier
    EXPECT_EQ(feed(s, {"xab", "c"}, &stopped), "x");
    EXPECT_TRUE(stopped);
  }
}

TEST(StopStrings, WithoutStopStringsEverythingPassesThrough) {
  StopStrings s({"", ""});  // empty stop strings are ignored
  bool stopped = true;
  EXPECT_EQ(s.push("<|end|>", &stopped), "<|end|>");
  EXPECT_FALSE(stopped);
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_TRUE(s.stops().empty());
}

// The first stop string to complete, found by reading the text one byte at a time.
std::string reference_cut(const std::string& text, const std::vector<std::string>& stops, bool* stopped) {
  for (size_t end = 1; end <= text.size(); ++end) {
    size_t longest = 0;
    for (const std::string& s : stops)
      if (s.size() <= end && text.compare(end - s.size(), s.size(), s) == 0) longest = std::max(longest, s.size());
    if (longest > 0) {
      *stopped = true;
      return text.substr(0, end - longest);
    }
  }
  *stopped = false;
  return text;
}

TEST(StopStrings, ResultDoesNotDependOnHowTheTextIsCut) {
  std::mt19937 rng(11);
  const std::vector<std::string> stops = {"ab", "bca", "cc", "abab"};
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text;
    const int n = static_cast<int>(rng() % 14);
    for (int i = 0; i < n; ++i) text += static_cast<char>('a' + rng() % 3);
    bool want_stopped = false;
    const std::string want = reference_cut(text, stops, &want_stopped);
    std::vector<std::string> pieces;
    for (size_t i = 0; i < text.size();) {
      const size_t len = std::min<size_t>(text.size() - i, 1 + rng() % 4);
      pieces.push_back(text.substr(i, len));
      i += len;
    }
    StopStrings s(stops);
    bool stopped = false;
    ASSERT_EQ(feed(s, pieces, &stopped), want) << "text '" << text << "'";
    ASSERT_EQ(stopped, want_stopped) << "text '" << text << "'";
  }
}

// ---- TextStream ------------------------------------------------------------------------------

TEST(TextStream, MultiByteCharacterStreamsWhole) {
  TextStream ts;
  bool stopped = true;
  std::vector<std::string> out;
  for (char c : "x" + kGrin) out.push_back(ts.push(std::string(1, c), &stopped));
  EXPECT_FALSE(stopped);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0], "x");
  EXPECT_EQ(out[1], "");
  EXPECT_EQ(out[2], "");
  EXPECT_EQ(out[3], "");
  EXPECT_EQ(out[4], kGrin);  // never a partial byte
  EXPECT_EQ(ts.flush(), "");
}

TEST(TextStream, StopStringWithASplitCharacter) {
  TextStream ts({"\xc3\xa9!"});  // "é!"
  bool stopped = false;
  EXPECT_EQ(ts.push("caf\xc3", &stopped), "caf");
  EXPECT_EQ(ts.push("\xa9", &stopped), "");  // "é" may begin the stop string
  EXPECT_FALSE(stopped);
  EXPECT_EQ(ts.push("! more", &stopped), "");
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(ts.stopped());
  EXPECT_EQ(ts.push("x", &stopped), "");
  EXPECT_TRUE(stopped);
  EXPECT_EQ(ts.flush(&stopped), "");
  EXPECT_TRUE(stopped);
}

TEST(TextStream, FalseStartAndInvalidBytes) {
  TextStream ts({"\n\nQ:"});
  bool stopped = false;
  std::string got;
  for (const std::string p : {"A\xff", "\n", "\n", "R", "\xe2\x82", "\xac"}) {
    const std::string chunk = ts.push(p, &stopped);
    EXPECT_TRUE(valid_utf8(chunk));
    got += chunk;
  }
  EXPECT_FALSE(stopped);
  EXPECT_EQ(got, "A" + kFffd + "\n\nR\xe2\x82\xac");
}

TEST(TextStream, FlushReleasesHeldTextAndADanglingTail) {
  TextStream ts({"</answer>"});
  bool stopped = false;
  EXPECT_EQ(ts.push("42</ans", &stopped), "42");
  EXPECT_EQ(ts.push("\xf0\x9f", &stopped), "");  // a false start, but the UTF-8 tail waits
  EXPECT_EQ(ts.flush(&stopped), "</ans" + kFffd);
  EXPECT_FALSE(stopped);
}

TEST(TextStream, StopStringsAreSanitizedLikeTheText) {
  TextStream ts({"x\xff"});  // matches the U+FFFD an invalid byte becomes
  bool stopped = false;
  EXPECT_EQ(ts.push("ax", &stopped), "a");
  EXPECT_EQ(ts.push("\xfe tail", &stopped), "");
  EXPECT_TRUE(stopped);

  TextStream end({kFffd});  // completed by the U+FFFD that flush makes of a dangling tail
  EXPECT_EQ(end.push("ok\xc3", &stopped), "ok");
  EXPECT_EQ(end.flush(&stopped), "");
  EXPECT_TRUE(stopped);
}

}  // namespace
}  // namespace moeinfer
