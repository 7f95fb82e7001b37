// Byte-pair encoding by merge rank, with Hugging Face `tokenizers` semantics (models::bpe).
//
// A word (one pre-token, already spelled in the vocabulary's alphabet: byte-level characters or
// '▁'-escaped text) is encoded as follows:
//  0. ignore_merges: a word that is itself in the vocabulary is emitted whole;
//  1. each UTF-8 character becomes a symbol: its vocabulary id; otherwise (byte_fallback) one
//     <0xXX> symbol per byte when all of them exist; otherwise the unknown token (consecutive
//     unknown characters fused into one when fuse_unk); otherwise the character is dropped;
//  2. repeatedly the adjacent symbol pair with the lowest merge rank is merged (ties: leftmost),
//     using a min-heap of candidate pairs with lazy invalidation: O(n log n) per word;
//  3. the remaining symbols' ids are the output.
// Merges are keyed by the ids of their two parts; a merge's result must be in the vocabulary.
// A bounded cache maps recently seen words to their ids (guarded by a mutex: encode is const and
// may be called from several threads).
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace moeinfer {

// Heterogeneous lookup (find by string_view without building a std::string).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeOptions {
  bool byte_fallback = false;
  bool ignore_merges = false;
  bool fuse_unk = false;
  std::string unk_token;  // "" = none
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};

class BpeModel {
 public:
  // vocab: token -> id (ids need not be dense). merges: in rank order. When strict, a merge naming
  // a token (or producing one) that is not in the vocabulary throws Error(file, "model.merges[i]");
  // otherwise such merges are skipped (GGUF files, as llama.cpp tolerates them).
  BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions opts,
           bool strict, const std::string& file);

  // Appends the ids of one word to *out.
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  int32_t find(std::string_view token) const {
    auto it = vocab_.find(token);
    return it == vocab_.end() ? -1 : it->second;
  }
  const Vocab& vocab() const { return vocab_; }
  const BpeOptions& options() const { return opts_; }

 private:
  struct MergeInfo {
    int32_t rank, new_id;
  };
  // Open-addressing hash table (linear probing) from a pair of ids to its merge: the hot lookup
  // of encoding, flat for cache locality. Keys are (left << 32 | right); ~0 marks an empty slot
  // (ids are below 2^31, so no real key has that value).
  class MergeTable {
   public:
    void reserve(size_t n);
    void insert_or_assign(uint64_t key, MergeInfo v);
    const MergeInfo* find(uint64_t key) const {
      if (slots_.empty()) return nullptr;
      for (size_t i = hash(key);; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.key == key) return &s.info;
        if (s.key == kEmpty) return nullptr;
      }
    }

   private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    struct Slot {
      uint64_t key = kEmpty;
      MergeInfo info{0, 0};
    };
    size_t hash(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
    std::vector<Slot> slots_;
    size_t mask_ = 0, size_ = 0;
    int shift_ = 64;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  const MergeInfo* find_merge(int32_t a, int32_t b) const { return merges_.find(pair_key(a, b)); }
  // The id of one UTF-8 character (-1 when not in the vocabulary): a table for the Basic
  // Multilingual Plane (1- to 3-byte characters), the hash map otherwise.
  int32_t find_char(std::string_view ch) const {
    const unsigned char c = static_cast<unsigned char>(ch[0]);
    if (ch.size() == 1 && c < 0x80) return bmp_char_ids_[c];
    if (ch.size() == 2 && c >= 0xC2 && c < 0xE0)
      return bmp_char_ids_[((c & 0x1F) << 6) | (static_cast<unsigned char>(ch[1]) & 0x3F)];
    if (ch.size() == 3 && c >= 0xE0 && c < 0xF0)
      return bmp_char_ids_[((c & 0x0F) << 12) | ((static_cast<unsigned char>(ch[1]) & 0x3F) << 6) |
                           (static_cast<unsigned char>(ch[2]) & 0x3F)];
    return find(ch);
  }
  void merge_word(std::string_view word, std::vector<int32_t>* out) const;

  Vocab vocab_;
  MergeTable merges_;
  std::vector<int32_t> bmp_char_ids_;  // code point U+0000..U+FFFF -> id of that one character, or -1
  BpeOptions opts_;
  int32_t unk_id_ = -1;
  int32_t byte_ids_[256];  // <0xXX> token ids for byte_fallback, -1 when missing

  static constexpr size_t kCacheMaxWordBytes = 256;
  static constexpr size_t kCacheMaxEntries = 1 << 16;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace moeinfer
