// Added tokens (tokenizer.json "added_tokens"; GGUF control and user-defined tokens): strings that
// are cut out of the raw text before normalization and pre-tokenization and become one id each.
//
// Matching is leftmost-longest over all enabled tokens (a byte trie walked from each position),
// on the raw text. Special tokens are enabled only when parse_special; non-special ones always.
// Per-token flags as in HF: lstrip / rstrip extend the match over adjacent whitespace (which is
// then dropped), single_word rejects a match touching a word character on either side.
// `normalized` is recorded but does not change matching (the README's contract: raw text).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moeinfer {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// One piece of the split text: either an added token (id >= 0) or a text range to tokenize.
struct TextPiece {
  size_t begin = 0, end = 0;  // byte range in the text (for a token: the range it consumed)
  int32_t id = -1;
};

class AddedTokens {
 public:
  AddedTokens() = default;
  explicit AddedTokens(std::vector<AddedToken> tokens);

  // Splits text into text pieces and token pieces, in order. Empty text pieces are omitted.
  std::vector<TextPiece> split(std::string_view text, bool parse_special) const;

  // The token with this id, or nullptr.
  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;  // byte -> child node, sorted by byte
    int32_t token = -1;                                   // index into tokens_ ending here
  };
  int32_t child(int32_t node, unsigned char c) const;
  // The longest enabled token starting at text[pos], as an index into tokens_, or -1.
  int32_t longest_at(std::string_view text, size_t pos, bool parse_special) const;

  std::vector<AddedToken> tokens_;
  std::vector<Node> trie_;
  bool can_start_[256] = {};
  std::vector<int32_t> index_by_id_;  // id -> index into tokens_ (-1 when none)
};

}  // namespace moeinfer
