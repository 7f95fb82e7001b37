// The paged KV store: fixed-size blocks of positions (every layer's K and V rows of block_size
// positions in one block; layout in model/kv_view.h), per-sequence block tables, and a pool of
// blocks allocated on demand and bounded by a byte budget. It owns every block and every
// sequence's table; the forward pass sees only a KvView.
//
//  - A sequence's block b holds its positions [b·bs, (b+1)·bs). Blocks are allocated when a step
//    first writes into them (reserve), so memory follows the tokens actually held, not the context.
//  - Sliding windows: once a sequence's length passes a block by more than the window (plus
//    `keep_extra` positions that speculative decoding may roll back), the block is freed.
//  - fork(seq, n) starts a sequence that shares the blocks of seq's first n positions (reference
//    counts). Any write into a block that another sequence also holds copies the block first
//    (copy on write), so sharing a partial last block is safe.
//  - When the pool cannot supply a block, reserve() throws KvFullError naming the sequence that
//    asked; other sequences are unaffected.
// Freed blocks return to a free list and are reused; the memory of blocks ever allocated is kept
// until the store is destroyed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "model/kv_view.h"

namespace moeinfer {

struct KvStoreOptions {
  int64_t n_layers = 0, k_dim = 0, v_dim = 0;  // row sizes in floats (model: kv_cache_dims)
  int64_t block_size = 64;                     // positions per block
  uint64_t max_bytes = 0;                      // pool bound (0 = unbounded)
  int64_t window = 0;                          // sliding window W (0 = full attention)
  int64_t keep_extra = 0;                      // positions kept beyond the window (rollback)
};

// The pool is exhausted; `seq` is the sequence whose reserve() failed.
class KvFullError : public Error {
 public:
  KvFullError(int32_t seq, const std::string& what) : Error("kv cache", "sequence " + std::to_string(seq), what), seq(seq) {}
  int32_t seq;
};

class KvStore {
 public:
  explicit KvStore(const KvStoreOptions& o);
  ~KvStore();
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // A new, empty sequence; ids of removed sequences are reused (the smallest first).
  int32_t add_sequence();
  // Frees the sequence's blocks (those it shares stay with the other holders).
  void remove_sequence(int32_t seq);
  // A new sequence holding the first n_positions of seq (n_positions <= length(seq)), sharing its blocks.
  int32_t fork(int32_t seq, int64_t n_positions);
  // Makes positions [length(seq), end) writable: allocates missing blocks and copies shared ones.
  // Throws KvFullError when the pool cannot supply a block.
  void reserve(int32_t seq, int64_t end);
  // Positions [0, len) of seq are now valid (after a step, or a rollback to a shorter length);
  // frees blocks that left the sliding window.
  void set_length(int32_t seq, int64_t len);

  int64_t length(int32_t seq) const { return seqs_.at(static_cast<size_t>(seq)).length; }
  bool live(int32_t seq) const { return seq >= 0 && seq < static_cast<int32_t>(seqs_.size()) && seqs_[seq].live; }
  int64_t block_size() const { return o_.block_size; }
  int64_t window() const { return o_.window; }
  // The forward pass's view; valid until the next add/remove/fork/reserve.
  KvView view();

  uint64_t block_bytes() const { return block_bytes_; }
  uint64_t bytes_allocated() const { return block_bytes_ * mem_.size(); }  // blocks ever allocated
  uint64_t bytes_in_use() const { return block_bytes_ * static_cast<uint64_t>(mem_.size() - free_.size()); }
  int64_t max_blocks() const { return max_blocks_; }  // the budget in blocks (INT64_MAX when unbounded)
  // Blocks held by seq, and how many of them another sequence also holds (tests, statistics).
  int64_t blocks_of(int32_t seq) const;
  int64_t shared_blocks_of(int32_t seq) const;

 private:
  struct Seq {
    bool live = false;
    int64_t length = 0;
    std::vector<int32_t> blocks;  // block index per table slot, -1 = none
    std::vector<float*> ptrs;     // the same as pointers (null = none), for the view
  };
  int32_t new_block(int32_t seq);  // from the free list or a fresh allocation; refs = 1
  void drop_block(int32_t b);      // refs - 1; back to the free list at 0
  Seq& seq_ref(int32_t seq);

  KvStoreOptions o_;
  uint64_t block_bytes_ = 0;
  int64_t max_blocks_ = 0;
  std::vector<float*> mem_;     // every block ever allocated
  std::vector<int32_t> refs_;   // per block
  std::vector<int32_t> free_;   // free block indices
  std::vector<Seq> seqs_;
  std::vector<KvSeqBlocks> view_seqs_;
};

}  // namespace moeinfer
