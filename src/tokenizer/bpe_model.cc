#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>

#include "base/error.h"
#include "tokenizer/unicode_text.h"

namespace moeinfer {

namespace {

size_t char_len(std::string_view s, size_t off) {
  const unsigned char c = static_cast<unsigned char>(s[off]);
  size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return off + n > s.size() ? s.size() - off : n;
}

struct Symbol {
  int32_t id;
  int32_t prev, next;  // indices into the word's symbols, -1 at the ends
  uint32_t len;        // bytes of the word it covers; 0 once merged into its left neighbour
};

struct Candidate {
  int32_t rank, pos, new_id;
  // std::priority_queue pops the largest: make that the lowest rank, then the leftmost position.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

void BpeModel::MergeTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n + n / 2 + 1) cap *= 2;  // load factor <= 2/3
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  shift_ = 64;
  for (size_t c = cap; c > 1; c >>= 1) --shift_;
  size_ = 0;
}

void BpeModel::MergeTable::insert_or_assign(uint64_t key, MergeInfo v) {
  if (slots_.empty() || (size_ + 1) * 3 > slots_.size() * 2) {  // grow
    std::vector<Slot> old = std::move(slots_);
    reserve(std::max<size_t>(size_ + 1, old.size()));
    for (const Slot& s : old)
      if (s.key != kEmpty) insert_or_assign(s.key, s.info);
  }
  for (size_t i = hash(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      s.info = v;
      return;
    }
    if (s.key == kEmpty) {
      s.key = key;
      s.info = v;
      ++size_;
      return;
    }
  }
}

BpeModel::BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions opts,
                   bool strict, const std::string& file)
    : vocab_(std::move(vocab)), opts_(std::move(opts)) {
  if (!opts_.unk_token.empty()) {
    unk_id_ = find(opts_.unk_token);
    if (unk_id_ < 0)
      throw Error(file, "model.unk_token", "expected a token of the vocabulary, got '" + opts_.unk_token + "'");
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[b] = find(name);
  }
  bmp_char_ids_.assign(0x10000, -1);
  for (const auto& [text, id] : vocab_) {
    // Only well-formed, shortest-form sequences: those are what find_char is asked about.
    if (text.empty() || text.size() > 3 || utf8_seq_len(text, 0) != text.size()) continue;
    const uint32_t cp = utf8_decode_at(text, 0);
    std::string canonical;
    utf8_append(cp, &canonical);
    if (cp < 0x10000 && canonical == text) bmp_char_ids_[cp] = id;
  }
  const std::string& prefix = opts_.continuing_subword_prefix;
  merges_.reserve(merges.size());
  std::string merged;
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string& a = merges[i].first;
    const std::string& b = merges[i].second;
    const int32_t ia = find(a), ib = find(b);
    merged.assign(a);
    if (!prefix.empty() && b.compare(0, prefix.size(), prefix) == 0) merged.append(b, prefix.size());
    else merged += b;
    const int32_t im = find(merged);
    if (ia < 0 || ib < 0 || im < 0) {
      if (!strict) continue;
      const std::string& missing = ia < 0 ? a : ib < 0 ? b : merged;
      throw Error(file, "model.merges[" + std::to_string(i) + "]",
                  "expected tokens of the vocabulary, but '" + missing + "' is not one");
    }
    merges_.insert_or_assign(pair_key(ia, ib), MergeInfo{static_cast<int32_t>(i), im});  // repeated: last rank
  }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (opts_.ignore_merges) {
    const int32_t id = find(word);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  const bool cacheable = word.size() <= kCacheMaxWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out->size();
  merge_word(word, out);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() >= kCacheMaxEntries) cache_.clear();  // bounded: start over rather than grow
    cache_.emplace(std::string(word), std::vector<int32_t>(out->begin() + first, out->end()));
  }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>* out) const {
  // Per-thread scratch, reused across words so long words do not map fresh pages every time.
  thread_local std::vector<Symbol> sym;
  thread_local std::vector<Candidate> heap;
  sym.clear();
  heap.clear();
  auto add = [&](int32_t id, size_t len) {
    const int32_t idx = static_cast<int32_t>(sym.size());
    sym.push_back({id, idx - 1, -1, static_cast<uint32_t>(len)});
  };
  int32_t pending_unk_len = -1;  // bytes of the unknown run not yet added (fuse_unk)
  std::string piece;
  for (size_t off = 0; off < word.size();) {
    const size_t len = char_len(word, off);
    const bool is_first = off == 0, is_last = off + len == word.size();
    std::string_view ch = word.substr(off, len);
    off += len;
    int32_t id;
    if (opts_.continuing_subword_prefix.empty() && opts_.end_of_word_suffix.empty()) {
      id = find_char(ch);
    } else {
      piece.clear();
      if (!is_first) piece += opts_.continuing_subword_prefix;
      piece += ch;
      if (is_last) piece += opts_.end_of_word_suffix;
      id = find(piece);
    }
    if (id >= 0) {
      if (pending_unk_len >= 0) add(unk_id_, pending_unk_len), pending_unk_len = -1;
      add(id, len);
      continue;
    }
    if (opts_.byte_fallback) {
      bool all = true;
      for (unsigned char c : ch) all = all && byte_ids_[c] >= 0;
      if (all) {
        // HF adds these without flushing a pending unknown run first; mirror that order.
        for (unsigned char c : ch) add(byte_ids_[c], 1);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (pending_unk_len >= 0 && opts_.fuse_unk) {
        pending_unk_len += static_cast<int32_t>(len);
      } else {
        if (pending_unk_len >= 0) add(unk_id_, pending_unk_len);
        pending_unk_len = static_cast<int32_t>(len);
      }
    }
  }
  if (pending_unk_len >= 0) add(unk_id_, pending_unk_len);
  if (sym.empty()) return;
  for (size_t i = 0; i + 1 < sym.size(); ++i) sym[i].next = static_cast<int32_t>(i + 1);

  // A binary min-heap of candidate merges (std::push_heap / pop_heap with Candidate's ordering).
  auto push = [&](Candidate c) {
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end());
  };
  for (size_t i = 0; i + 1 < sym.size(); ++i)
    if (const MergeInfo* m = find_merge(sym[i].id, sym[i + 1].id)) heap.push_back({m->rank, static_cast<int32_t>(i), m->new_id});
  std::make_heap(heap.begin(), heap.end());

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& cur = sym[top.pos];
    if (cur.len == 0 || cur.next < 0) continue;
    const int32_t next_pos = cur.next;
    const Symbol right = sym[next_pos];
    // Stale entry unless the pair there still merges into the same token.
    const MergeInfo* m = find_merge(cur.id, right.id);
    if (!m || m->new_id != top.new_id) continue;
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    sym[next_pos].len = 0;
    if (right.next >= 0) sym[right.next].prev = top.pos;
    if (cur.prev >= 0)
      if (const MergeInfo* p = find_merge(sym[cur.prev].id, cur.id)) push({p->rank, cur.prev, p->new_id});
    if (cur.next >= 0)
      if (const MergeInfo* n = find_merge(cur.id, sym[cur.next].id)) push({n->rank, top.pos, n->new_id});
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out->push_back(sym[i].id);
}

}  // namespace moeinfer
