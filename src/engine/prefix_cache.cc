#include "engine/prefix_cache.h"

#include <algorithm>

namespace moeinfer {

PrefixCache::PrefixCache(KvStore& kv, int64_t max_blocks) : kv_(kv), max_blocks_(kv.window() > 0 ? 0 : max_blocks) {}

PrefixCache::~PrefixCache() { clear(); }

std::pair<int32_t, int64_t> PrefixCache::start(const std::vector<int32_t>& prompt) {
  if (!enabled() || entries_.empty()) return {-1, 0};
  const int64_t bs = kv_.block_size();
  const int64_t limit = (static_cast<int64_t>(prompt.size()) - 1) / bs * bs;
  Entry* best = nullptr;
  int64_t best_n = 0;
  for (Entry& e : entries_) {
    const int64_t n = std::min<int64_t>(limit, static_cast<int64_t>(e.tokens.size()));
    int64_t common = 0;
    while (common < n && e.tokens[static_cast<size_t>(common)] == prompt[static_cast<size_t>(common)]) ++common;
    common = common / bs * bs;
    if (common > best_n) {
      best_n = common;
      best = &e;
    }
  }
  if (!best) return {-1, 0};
  best->used = ++clock_;
  ++hits_;
  tokens_reused_ += best_n;
  return {kv_.fork(best->seq, best_n), best_n};
}

void PrefixCache::insert(int32_t seq, const std::vector<int32_t>& prompt) {
  if (!enabled()) return;
  const int64_t bs = kv_.block_size();
  const int64_t n = std::min<int64_t>(kv_.length(seq), static_cast<int64_t>(prompt.size())) / bs * bs;
  if (n == 0 || n / bs > max_blocks_) return;
  for (Entry& e : entries_) {
    if (static_cast<int64_t>(e.tokens.size()) >= n && std::equal(prompt.begin(), prompt.begin() + n, e.tokens.begin())) {
      e.used = ++clock_;  // already held
      return;
    }
  }
  // Entries that are a prefix of this one are subsumed by it.
  for (size_t i = 0; i < entries_.size();) {
    const Entry& e = entries_[i];
    if (static_cast<int64_t>(e.tokens.size()) < n && std::equal(e.tokens.begin(), e.tokens.end(), prompt.begin())) {
      kv_.remove_sequence(e.seq);
      entries_.erase(entries_.begin() + static_cast<int64_t>(i));
    } else {
      ++i;
    }
  }
  entries_.push_back(Entry{kv_.fork(seq, n), std::vector<int32_t>(prompt.begin(), prompt.begin() + n), ++clock_});
  while (blocks() > max_blocks_ && evict_one()) {
  }
}

bool PrefixCache::evict_one() {
  if (entries_.empty()) return false;
  auto lru = std::min_element(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  kv_.remove_sequence(lru->seq);
  entries_.erase(lru);
  return true;
}

void PrefixCache::clear() {
  for (Entry& e : entries_) kv_.remove_sequence(e.seq);
  entries_.clear();
}

int64_t PrefixCache::blocks() const {
  int64_t n = 0;
  for (const Entry& e : entries_) n += static_cast<int64_t>(e.tokens.size()) / kv_.block_size();
  return n;
}

}  // namespace moeinfer
