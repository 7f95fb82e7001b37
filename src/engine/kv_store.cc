#include "engine/kv_store.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace moeinfer {

KvStore::KvStore(const KvStoreOptions& o) : o_(o) {
  assert(o.block_size > 0 && o.n_layers > 0);
  block_bytes_ = static_cast<uint64_t>(o.n_layers) * o.block_size * (o.k_dim + o.v_dim) * sizeof(float);
  block_bytes_ = (block_bytes_ + 63) / 64 * 64;
  max_blocks_ = o.max_bytes == 0 ? std::numeric_limits<int64_t>::max()
                                 : static_cast<int64_t>(o.max_bytes / std::max<uint64_t>(block_bytes_, 1));
}

KvStore::~KvStore() {
  for (float* p : mem_) std::free(p);
}

KvStore::Seq& KvStore::seq_ref(int32_t seq) {
  if (!live(seq)) throw Error("kv cache", "sequence " + std::to_string(seq), "no such sequence");
  return seqs_[static_cast<size_t>(seq)];
}

int32_t KvStore::add_sequence() {
  for (size_t i = 0; i < seqs_.size(); ++i)
    if (!seqs_[i].live) {
      seqs_[i] = Seq{};
      seqs_[i].live = true;
      return static_cast<int32_t>(i);
    }
  seqs_.push_back(Seq{});
  seqs_.back().live = true;
  return static_cast<int32_t>(seqs_.size() - 1);
}

void KvStore::remove_sequence(int32_t seq) {
  Seq& s = seq_ref(seq);
  for (int32_t b : s.blocks)
    if (b >= 0) drop_block(b);
  s = Seq{};
}

int32_t KvStore::fork(int32_t seq, int64_t n_positions) {
  if (n_positions < 0 || n_positions > seq_ref(seq).length)
    throw Error("kv cache", "fork", "the prefix is longer than the sequence");
  const int32_t child = add_sequence();  // may reallocate seqs_: take references after it
  const Seq& parent = seqs_[static_cast<size_t>(seq)];
  Seq& c = seqs_[static_cast<size_t>(child)];
  const int64_t n_blocks = (n_positions + o_.block_size - 1) / o_.block_size;
  c.blocks.assign(parent.blocks.begin(), parent.blocks.begin() + std::min<int64_t>(n_blocks, parent.blocks.size()));
  c.ptrs.assign(parent.ptrs.begin(), parent.ptrs.begin() + static_cast<int64_t>(c.blocks.size()));
  for (int32_t b : c.blocks)
    if (b >= 0) ++refs_[static_cast<size_t>(b)];
  c.length = n_positions;
  return child;
}

int32_t KvStore::new_block(int32_t seq) {
  if (!free_.empty()) {
    const int32_t b = free_.back();
    free_.pop_back();
    refs_[static_cast<size_t>(b)] = 1;
    return b;
  }
  if (static_cast<int64_t>(mem_.size()) >= max_blocks_)
    throw KvFullError(seq, "the KV cache budget of " + std::to_string(max_blocks_) + " blocks (" +
                               std::to_string(static_cast<uint64_t>(max_blocks_) * block_bytes_ >> 20) +
                               " MiB) is used up; raise the budget or run fewer sequences");
  void* p = std::aligned_alloc(64, block_bytes_);
  if (!p) throw KvFullError(seq, "out of memory allocating a KV block");
  mem_.push_back(static_cast<float*>(p));
  refs_.push_back(1);
  return static_cast<int32_t>(mem_.size() - 1);
}

void KvStore::drop_block(int32_t b) {
  if (--refs_[static_cast<size_t>(b)] == 0) free_.push_back(b);
}

void KvStore::reserve(int32_t seq, int64_t end) {
  Seq& s = seq_ref(seq);
  if (end <= s.length) return;
  const int64_t b_first = s.length / o_.block_size, b_last = (end - 1) / o_.block_size;
  if (static_cast<int64_t>(s.blocks.size()) <= b_last) {
    s.blocks.resize(static_cast<size_t>(b_last + 1), -1);
    s.ptrs.resize(static_cast<size_t>(b_last + 1), nullptr);
  }
  for (int64_t i = b_first; i <= b_last; ++i) {
    int32_t& b = s.blocks[static_cast<size_t>(i)];
    if (b < 0) {
      b = new_block(seq);
    } else if (refs_[static_cast<size_t>(b)] > 1) {  // shared: copy before writing
      const int32_t copy = new_block(seq);
      std::memcpy(mem_[static_cast<size_t>(copy)], mem_[static_cast<size_t>(b)], block_bytes_);
      drop_block(b);
      b = copy;
    }
    s.ptrs[static_cast<size_t>(i)] = mem_[static_cast<size_t>(b)];
  }
}

void KvStore::set_length(int32_t seq, int64_t len) {
  Seq& s = seq_ref(seq);
  assert(len <= static_cast<int64_t>(s.blocks.size()) * o_.block_size);
  s.length = len;
  if (o_.window <= 0) return;
  // The next query (position len) sees keys from len - W + 1; rollback may move it keep_extra back.
  const int64_t first_needed = len - o_.window + 1 - o_.keep_extra;
  for (int64_t i = 0; (i + 1) * o_.block_size <= first_needed && i < static_cast<int64_t>(s.blocks.size()); ++i) {
    int32_t& b = s.blocks[static_cast<size_t>(i)];
    if (b < 0) continue;
    drop_block(b);
    b = -1;
    s.ptrs[static_cast<size_t>(i)] = nullptr;
  }
}

KvView KvStore::view() {
  view_seqs_.resize(seqs_.size());
  for (size_t i = 0; i < seqs_.size(); ++i)
    view_seqs_[i] = KvSeqBlocks{seqs_[i].ptrs.data(), static_cast<int64_t>(seqs_[i].ptrs.size())};
  KvView v;
  v.n_layers = o_.n_layers;
  v.block_size = o_.block_size;
  v.k_dim = o_.k_dim;
  v.v_dim = o_.v_dim;
  v.seqs = view_seqs_.data();
  v.n_seqs = static_cast<int64_t>(view_seqs_.size());
  return v;
}

int64_t KvStore::blocks_of(int32_t seq) const {
  int64_t n = 0;
  for (int32_t b : seqs_.at(static_cast<size_t>(seq)).blocks) n += b >= 0;
  return n;
}

int64_t KvStore::shared_blocks_of(int32_t seq) const {
  int64_t n = 0;
  for (int32_t b : seqs_.at(static_cast<size_t>(seq)).blocks) n += b >= 0 && refs_[static_cast<size_t>(b)] > 1;
  return n;
}

}  // namespace moeinfer
