// The prefix cache: full KV blocks of earlier prompts, kept so that a new sequence sharing a
// prefix (the same system prompt, the same conversation so far) starts from them instead of
// recomputing them.
//
// An entry is a sequence of the KvStore forked from a sequence that had just read its prompt: it
// holds that prompt's whole blocks (shared, copy on write), and the tokens they hold. A new prompt
// starts as a fork of the entry with the longest common prefix, in whole blocks and short of the
// prompt's last token (whose logits the new sequence needs). Entries are dropped least recently
// used first, past a budget of blocks or when the store runs out of blocks for live sequences.
// Sliding-window models are not cached (their early blocks are freed as they leave the window).
// The KV rows of a position depend only on the tokens up to it, bit for bit (a batch computes
// each row as if alone), so a cached prefix gives exactly the result of recomputing it.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/kv_store.h"

namespace moeinfer {

class PrefixCache {
 public:
  // max_blocks: the budget (0: the cache is off).
  PrefixCache(KvStore& kv, int64_t max_blocks);
  ~PrefixCache();

  bool enabled() const { return max_blocks_ > 0; }
  // A new sequence holding the longest cached prefix of prompt, and its length; (-1, 0) when
  // nothing useful is cached.
  std::pair<int32_t, int64_t> start(const std::vector<int32_t>& prompt);
  // seq has the KV of prompt's tokens: keep its whole blocks (unless an entry already does).
  void insert(int32_t seq, const std::vector<int32_t>& prompt);
  // Drops the least recently used entry; false when there is none.
  bool evict_one();
  void clear();

  int64_t entries() const { return static_cast<int64_t>(entries_.size()); }
  int64_t blocks() const;
  int64_t hits() const { return hits_; }
  int64_t tokens_reused() const { return tokens_reused_; }

 private:
  struct Entry {
    int32_t seq;
    std::vector<int32_t> tokens;  // a whole number of blocks
    uint64_t used;
  };
  KvStore& kv_;
  int64_t max_blocks_;
  std::vector<Entry> entries_;
  uint64_t clock_ = 0;
  int64_t hits_ = 0, tokens_reused_ = 0;
};

}  // namespace moeinfer
