// The paged KV store (engine/kv_store.h): blocks on demand, per-sequence tables, sliding-window
// freeing, fork with shared blocks and copy on write, and a bounded pool whose exhaustion is an
// error for the sequence that asked only.
#include <gtest/gtest.h>

#include "engine/kv_store.h"

namespace moeinfer {
namespace {

KvStoreOptions small(int64_t block = 4, uint64_t max_bytes = 0, int64_t window = 0) {
  KvStoreOptions o;
  o.n_layers = 2;
  o.k_dim = 3;
  o.v_dim = 2;
  o.block_size = block;
  o.max_bytes = max_bytes;
  o.window = window;
  return o;
}

// Writes a value that names (layer, seq tag, pos) into every K and V element of positions [a, b).
void fill(KvStore& s, int32_t seq, int64_t a, int64_t b, float tag) {
  s.reserve(seq, b);
  const KvView v = s.view();
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t p = a; p < b; ++p) {
      for (int i = 0; i < 3; ++i) v.k(l, seq, p)[i] = tag + 100 * l + p;
      for (int i = 0; i < 2; ++i) v.v(l, seq, p)[i] = -(tag + 100 * l + p);
    }
  s.set_length(seq, b);
}

float k_at(KvStore& s, int32_t seq, int64_t l, int64_t p) { return s.view().k(l, seq, p)[0]; }

TEST(KvStore, BlocksAreAllocatedAsPositionsArrive) {
  KvStore s(small());
  const int32_t a = s.add_sequence();
  EXPECT_EQ(s.bytes_in_use(), 0u);
  fill(s, a, 0, 1, 0);
  EXPECT_EQ(s.blocks_of(a), 1);
  fill(s, a, 1, 9, 0);
  EXPECT_EQ(s.blocks_of(a), 3);  // positions 0..8 in blocks of 4
  EXPECT_EQ(s.bytes_in_use(), 3 * s.block_bytes());
  // Rows of one block are contiguous; positions keep their values.
  for (int64_t p = 0; p < 9; ++p) EXPECT_EQ(k_at(s, a, 1, p), 100 + p);
  EXPECT_EQ(s.view().k(0, a, 5), s.view().k(0, a, 4) + 3);
  s.remove_sequence(a);
  EXPECT_EQ(s.bytes_in_use(), 0u);
  EXPECT_EQ(s.bytes_allocated(), 3 * s.block_bytes());  // kept for reuse
  const int32_t b = s.add_sequence();
  EXPECT_EQ(b, a);  // the id is reused
  fill(s, b, 0, 12, 5);
  EXPECT_EQ(s.bytes_allocated(), 3 * s.block_bytes());  // reused, not grown
}

TEST(KvStore, ForkSharesFullBlocksAndCopiesOnWrite) {
  KvStore s(small());
  const int32_t a = s.add_sequence();
  fill(s, a, 0, 10, 1000);        // blocks 0, 1 full; block 2 holds 8, 9
  const int32_t c = s.fork(a, 6);  // shares blocks 0 and 1 (1 only partly: positions 4, 5)
  EXPECT_EQ(s.length(c), 6);
  EXPECT_EQ(s.blocks_of(c), 2);
  EXPECT_EQ(s.shared_blocks_of(c), 2);
  const uint64_t before = s.bytes_in_use();
  EXPECT_EQ(before, 3 * s.block_bytes());
  for (int64_t p = 0; p < 6; ++p) EXPECT_EQ(k_at(s, c, 0, p), 1000 + p);
  // The child writes position 6 (inside the shared block 1): it gets its own copy first.
  fill(s, c, 6, 7, 2000);
  EXPECT_EQ(s.shared_blocks_of(c), 1);
  EXPECT_EQ(s.bytes_in_use(), before + s.block_bytes());
  EXPECT_EQ(k_at(s, c, 0, 6), 2006);
  EXPECT_EQ(k_at(s, c, 0, 5), 1005);  // the copy kept the shared prefix
  EXPECT_EQ(k_at(s, a, 0, 6), 1006);  // the parent is untouched
  EXPECT_EQ(k_at(s, a, 1, 7), 1107);
  // Removing the parent leaves the child's shared block alive.
  s.remove_sequence(a);
  EXPECT_EQ(k_at(s, c, 1, 2), 1102);
  EXPECT_EQ(s.shared_blocks_of(c), 0);
  EXPECT_THROW(s.fork(c, 8), Error);  // longer than the sequence
}

TEST(KvStore, SlidingWindowFreesBlocksBehindIt) {
  KvStore s(small(4, 0, /*window=*/5));
  const int32_t a = s.add_sequence();
  uint64_t most = 0;
  for (int64_t p = 0; p < 40; ++p) {
    fill(s, a, p, p + 1, 0);
    most = std::max(most, s.bytes_in_use());
    // the window of the next query, [p + 1 - 5 + 1, p + 1], is still held
    for (int64_t q = std::max<int64_t>(0, p - 3); q <= p; ++q) EXPECT_EQ(k_at(s, a, 0, q), q);
  }
  EXPECT_LE(most, 3 * s.block_bytes());  // 5 positions span at most 2 blocks, plus the one being written
  EXPECT_EQ(s.view().seqs[a].blocks[0], nullptr);
}

TEST(KvStore, ExhaustionIsAnErrorForTheAskingSequenceOnly) {
  KvStore probe(small());
  KvStore s(small(4, 3 * probe.block_bytes()));
  const int32_t a = s.add_sequence(), b = s.add_sequence();
  fill(s, a, 0, 8, 0);  // 2 blocks
  fill(s, b, 0, 4, 50); // 1 block: the pool is full
  try {
    s.reserve(b, 5);
    FAIL() << "expected KvFullError";
  } catch (const KvFullError& e) {
    EXPECT_EQ(e.seq, b);
    EXPECT_NE(std::string(e.what()).find("sequence 1"), std::string::npos) << e.what();
  }
  // a is unaffected, and once b is gone a can grow.
  EXPECT_EQ(k_at(s, a, 1, 7), 107);
  s.remove_sequence(b);
  fill(s, a, 8, 12, 0);
  EXPECT_EQ(k_at(s, a, 0, 11), 11);
}

}  // namespace
}  // namespace moeinfer
