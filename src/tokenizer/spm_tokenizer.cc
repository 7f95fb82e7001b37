#include "tokenizer/spm_tokenizer.h"

#include <cstdio>
#include <queue>

#include "base/error.h"
#include "base/utf8.h"
#include "formats/gguf_reader.h"
#include "tokenizer/gguf_tokenizer.h"

namespace moeinfer {

namespace {

const std::string kSpace = "\xe2\x96\x81";  // U+2581 '▁', SentencePiece's visible space

std::string escape_spaces(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == ' ') out += kSpace;
    else out += c;
  }
  return out;
}

std::string unescape_spaces(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, kSpace) == 0) {
      out += ' ';
      i += 3;
    } else {
      out += s[i++];
    }
  }
  return out;
}

struct Symbol {
  int prev, next;   // linked list over the segment; -1 at the ends
  size_t begin, n;  // byte range in the segment; n == 0 once merged away
};

struct Bigram {
  int left, right;
  float score;
  size_t size;  // byte length of the merged text, to detect stale entries
  bool operator<(const Bigram& o) const {
    // priority_queue pops the largest: highest score first, then the leftmost pair
    return score < o.score || (score == o.score && left > o.left);
  }
};

}  // namespace

SpmTokenizer::SpmTokenizer(const GgufFile& g) {
  const std::string& p = g.path();
  const GgufValue& tokens = g.get_array("tokenizer.ggml.tokens", GgufType::kString);
  pieces_ = tokens.strs;
  const size_t n = pieces_.size();
  if (n == 0) throw Error(p, "tokenizer.ggml.tokens", "expected a non-empty array");
  if (n > static_cast<size_t>(INT32_MAX)) throw Error(p, "tokenizer.ggml.tokens", "too many tokens");
  scores_.assign(n, 0.0f);
  if (g.has("tokenizer.ggml.scores")) {
    const GgufValue& s = g.get_array("tokenizer.ggml.scores", GgufType::kFloat32);
    if (s.floats.size() != n)
      throw Error(p, "tokenizer.ggml.scores",
                  "expected " + std::to_string(n) + " scores (one per token), got " + std::to_string(s.floats.size()));
    for (size_t i = 0; i < n; ++i) scores_[i] = static_cast<float>(s.floats[i]);
  }
  types_.assign(n, TokenType::kNormal);
  if (g.has("tokenizer.ggml.token_type")) {
    const GgufValue& t = g.get_array("tokenizer.ggml.token_type", GgufType::kInt32);
    if (t.ints.size() != n)
      throw Error(p, "tokenizer.ggml.token_type",
                  "expected " + std::to_string(n) + " types (one per token), got " + std::to_string(t.ints.size()));
    for (size_t i = 0; i < n; ++i) {
      if (t.ints[i] < 0 || t.ints[i] > 6)
        throw Error(p, "tokenizer.ggml.token_type", "expected values 0..6, got " + std::to_string(t.ints[i]));
      types_[i] = t.ints[i] == 0 ? TokenType::kNormal : static_cast<TokenType>(t.ints[i]);
    }
  }
  for (size_t i = 0; i < n; ++i) index_.emplace(pieces_[i], static_cast<int32_t>(i));

  auto id_key = [&](const char* key, int32_t fallback) -> int32_t {
    if (!g.has(key)) return fallback;
    uint64_t v = g.get_uint(key);
    if (v == 0xffffffffu) return -1;  // llama.cpp writes -1 as uint32 for "none"
    if (v >= n) throw Error(p, key, "expected a token id below " + std::to_string(n) + ", got " + std::to_string(v));
    return static_cast<int32_t>(v);
  };
  bos_ = id_key("tokenizer.ggml.bos_token_id", -1);
  eos_ = id_key("tokenizer.ggml.eos_token_id", -1);
  unk_ = id_key("tokenizer.ggml.unknown_token_id", -1);
  eog_ = gguf_eog_ids(g, static_cast<int64_t>(n));
  add_bos_ = g.get_bool("tokenizer.ggml.add_bos_token", true) && bos_ >= 0;
  add_space_prefix_ = g.get_bool("tokenizer.ggml.add_space_prefix", true);

  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    int32_t id = find(name);
    if (id < 0) id = find(std::string(1, static_cast<char>(b)));
    byte_ids_[b] = id >= 0 ? id : unk_;
  }
  for (size_t i = 0; i < n; ++i) {
    TokenType t = types_[i];
    if ((t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) &&
        !pieces_[i].empty())
      specials_.push_back(static_cast<int32_t>(i));
  }
}

int32_t SpmTokenizer::find(const std::string& piece) const {
  auto it = index_.find(piece);
  return it == index_.end() ? -1 : it->second;
}

void SpmTokenizer::push_bytes(const std::string& s, std::vector<int32_t>* out) const {
  for (unsigned char c : s)
    if (byte_ids_[c] >= 0) out->push_back(byte_ids_[c]);
}

void SpmTokenizer::encode_segment(const std::string& text, std::vector<int32_t>* out) const {
  std::vector<Symbol> sym;
  for (size_t off = 0; off < text.size();) {
    size_t len = utf8_char_len(text, off);
    int idx = static_cast<int>(sym.size());
    sym.push_back({idx - 1, -1, off, len});
    off += len;
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  for (size_t i = 0; i + 1 < sym.size(); ++i) sym[i].next = static_cast<int>(i + 1);

  std::priority_queue<Bigram> queue;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t len = sym[left].n + sym[right].n;
    int32_t id = find(text.substr(sym[left].begin, len));
    if (id < 0) return;
    queue.push({left, right, scores_[id], len});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i - 1), static_cast<int>(i));

  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size || l.next != b.right) continue;  // stale
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int i = 0; i >= 0; i = sym[i].next) {
    std::string s = text.substr(sym[i].begin, sym[i].n);
    int32_t id = find(s);
    if (id >= 0) out->push_back(id);
    else push_bytes(s, out);
  }
}

std::vector<int32_t> SpmTokenizer::encode(const std::string& text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_) out.push_back(bos_);
  bool prev_special = true;  // the first segment gets the space prefix, like one after a special token
  auto flush = [&](size_t begin, size_t end) {
    if (end <= begin) return;
    std::string seg = (add_space_prefix_ && prev_special) ? " " : "";
    seg += text.substr(begin, end - begin);
    encode_segment(escape_spaces(seg), &out);
    prev_special = false;
  };
  size_t seg_begin = 0;
  for (size_t i = 0; i < text.size();) {
    int32_t best = -1;
    size_t best_len = 0;
    for (int32_t id : specials_) {
      TokenType t = types_[id];
      if (!parse_special && t != TokenType::kUserDefined) continue;
      const std::string& s = pieces_[id];
      if (s.size() > best_len && text.compare(i, s.size(), s) == 0) {
        best = id;
        best_len = s.size();
      }
    }
    if (best < 0) {
      ++i;
      continue;
    }
    flush(seg_begin, i);
    out.push_back(best);
    prev_special = true;
    i += best_len;
    seg_begin = i;
  }
  flush(seg_begin, text.size());
  return out;
}

std::string SpmTokenizer::token_to_piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) return "";
  switch (types_[id]) {
    case TokenType::kNormal: return unescape_spaces(pieces_[id]);
    case TokenType::kUserDefined: return pieces_[id];
    case TokenType::kUnknown: return "\xe2\x96\x85";  // '▅', as llama.cpp renders <unk>
    case TokenType::kByte: {
      unsigned v = 0;
      if (std::sscanf(pieces_[id].c_str(), "<0x%02X>", &v) == 1) return std::string(1, static_cast<char>(v));
      return pieces_[id];
    }
    default: return "";  // control, unused
  }
}

std::string SpmTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) continue;
    TokenType t = types_[id];
    if (t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUnused) out += pieces_[id];
    else out += token_to_piece(id);
  }
  // SentencePiece's decoder strips the one leading space the encoder's prefix added.
  if (!out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

}  // namespace moeinfer
