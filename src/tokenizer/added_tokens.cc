#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/pcre_regex.h"
#include "tokenizer/unicode_text.h"

namespace moeinfer {

namespace {

// HF's single_word test: a letter, digit, mark or connector ('_') counts as part of a word.
bool is_word_char_at(std::string_view text, size_t off, size_t len) {
  static const Regex word("^[\\p{L}\\p{N}\\p{M}\\p{Pc}]", RegexDialect::kOniguruma, "", "single_word");
  bool found = false;
  word.for_each_match(text.substr(off, len), [&](size_t, size_t) { found = true; });
  return found;
}

}  // namespace

AddedTokens::AddedTokens(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  trie_.emplace_back();
  int32_t max_id = -1;
  for (size_t t = 0; t < tokens_.size(); ++t) {
    max_id = std::max(max_id, tokens_[t].id);
    const std::string& s = tokens_[t].content;
    if (s.empty()) continue;
    int32_t node = 0;
    for (unsigned char c : s) {
      int32_t nx = child(node, c);
      if (nx < 0) {
        nx = static_cast<int32_t>(trie_.size());
        auto& v = trie_[node].next;
        v.insert(std::lower_bound(v.begin(), v.end(), std::make_pair(c, int32_t{-1})), {c, nx});
        trie_.emplace_back();
      }
      node = nx;
    }
    trie_[node].token = static_cast<int32_t>(t);  // a repeated content keeps the last entry
    const unsigned char first = static_cast<unsigned char>(s[0]);
    if (first < 0x80 || first >= 0xC0) can_start_[first] = true;
  }
  index_by_id_.assign(static_cast<size_t>(max_id + 1), -1);
  for (size_t t = 0; t < tokens_.size(); ++t) index_by_id_[tokens_[t].id] = static_cast<int32_t>(t);
}

int32_t AddedTokens::child(int32_t node, unsigned char c) const {
  for (const auto& [b, nx] : trie_[node].next) {
    if (b == c) return nx;
    if (b > c) break;
  }
  return -1;
}

int32_t AddedTokens::longest_at(std::string_view text, size_t pos, bool parse_special) const {
  int32_t node = 0, best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    node = child(node, static_cast<unsigned char>(text[i]));
    if (node < 0) break;
    const int32_t t = trie_[node].token;
    if (t >= 0 && (parse_special || !tokens_[t].special)) best = t;
  }
  return best;
}

std::vector<TextPiece> AddedTokens::split(std::string_view text, bool parse_special) const {
  std::vector<TextPiece> pieces;
  const size_t n = text.size();
  size_t seg_begin = 0;
  for (size_t i = 0; i < n;) {
    if (!can_start_[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    const int32_t t = longest_at(text, i, parse_special);
    if (t < 0) {
      ++i;
      continue;
    }
    const AddedToken& tok = tokens_[t];
    size_t mb = i, me = i + tok.content.size();
    if (tok.single_word) {
      const size_t before = mb > 0 ? utf8_prev_char_start(text, mb) : mb;
      const bool word_before = mb > 0 && is_word_char_at(text, before, mb - before);
      const bool word_after = me < n && is_word_char_at(text, me, utf8_seq_len(text, me));
      if (word_before || word_after) {
        ++i;
        continue;
      }
    }
    if (tok.lstrip) {
      while (mb > seg_begin) {
        const size_t p = utf8_prev_char_start(text, mb);
        if (p < seg_begin || !is_white_space(utf8_decode_at(text, p))) break;
        mb = p;
      }
    }
    if (tok.rstrip) {
      while (me < n && is_white_space(utf8_decode_at(text, me))) me += utf8_seq_len(text, me);
    }
    if (mb > seg_begin) pieces.push_back({seg_begin, mb, -1});
    pieces.push_back({mb, me, tok.id});
    seg_begin = i = me;
  }
  if (seg_begin < n) pieces.push_back({seg_begin, n, -1});
  return pieces;
}

const AddedToken* AddedTokens::by_id(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= index_by_id_.size() || index_by_id_[id] < 0) return nullptr;
  return &tokens_[index_by_id_[id]];
}

const AddedToken* AddedTokens::by_content(std::string_view content) const {
  if (content.empty()) return nullptr;
  int32_t node = 0;
  for (unsigned char c : content) {
    node = child(node, c);
    if (node < 0) return nullptr;
  }
  return trie_[node].token >= 0 ? &tokens_[trie_[node].token] : nullptr;
}

}  // namespace moeinfer
