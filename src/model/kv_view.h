// The forward pass's view of the paged KV store (the store itself — block pool, reference counts,
// per-sequence tables — lives in engine/kv_store.h; the model only reads and writes rows).
//
// Positions of a sequence live in fixed blocks of `block_size` positions: seqs[s].blocks[b] holds
// positions [b·bs, (b+1)·bs) of sequence s. One block holds every layer, per layer its K rows then
// its V rows:
//   block = [layer][ K: bs][k_dim] [ V: bs][v_dim] ]      (F32)
// so the rows of one block and layer are contiguous (stride k_dim / v_dim). What a row holds
// depends on the attention block: GQA stores n_kv_heads·head_dim keys and values; absorbed MLA
// stores the normed latent (kv_lora_rank) as K and the rotated k_rope as V; naive MLA the expanded
// per-head K and V. The engine guarantees that every position a batch row reads or writes has a
// block (blocks wholly outside a sliding window may be null).
#pragma once
#include <cstdint>

namespace moeinfer {

struct KvSeqBlocks {
  float* const* blocks = nullptr;  // [n_blocks] block pointers, index = position / block_size
  int64_t n_blocks = 0;
};

struct KvView {
  int64_t n_layers = 0, block_size = 0, k_dim = 0, v_dim = 0;
  const KvSeqBlocks* seqs = nullptr;  // [n_seqs], indexed by sequence id
  int64_t n_seqs = 0;

  int64_t layer_floats() const { return block_size * (k_dim + v_dim); }
  // First K (V) row of `layer` in the block holding `pos`; rows up to the block's end follow it.
  float* k_block(int64_t layer, int32_t seq, int64_t pos) const {
    return seqs[seq].blocks[pos / block_size] + layer * layer_floats();
  }
  float* v_block(int64_t layer, int32_t seq, int64_t pos) const {
    return seqs[seq].blocks[pos / block_size] + layer * layer_floats() + block_size * k_dim;
  }
  float* k(int64_t layer, int32_t seq, int64_t pos) const {
    return k_block(layer, seq, pos) + (pos % block_size) * k_dim;
  }
  float* v(int64_t layer, int32_t seq, int64_t pos) const {
    return v_block(layer, seq, pos) + (pos % block_size) * v_dim;
  }
  // One past the last position of the block holding pos (a run of contiguous rows ends there).
  int64_t block_end(int64_t pos) const { return (pos / block_size + 1) * block_size; }
};

}  // namespace moeinfer
