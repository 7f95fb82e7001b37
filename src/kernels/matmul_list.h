// Matmuls as lists of work items behind one barrier. A list is several matrices, each with its own
// input and output (q/k/v of one input; gate and up; the selected experts of a MoE layer, each on
// its own gathered rows). Every distinct input of a quantized weight is quantized once into the
// caller's scratch (the reference quantizer's bytes), then each matrix's rows are cut into items
// (row ranges at multiples of 16, the tile and cache-line granule) that the pool's threads take
// from one atomic counter: no barrier per matrix, and no thread idles while another matrix of the
// list still has rows.
//   Y_j = X_j · W_jᵀ:  W_j ne = {cols, rows}; X_j [n_tok_j][cols]; Y_j [n_tok_j][ldy_j] (ldy 0 = rows).
#pragma once
#include <cstdint>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "tensor/tensor.h"

namespace moeinfer {

struct MatmulJob {
  const TensorView* w;
  const float* x;
  int64_t n_tok;
  float* y;
  int64_t ldy = 0;
};

// Scratch for one list: the quantized inputs and the item table. Sized once (reserve) by the run
// state that owns it, so a forward step allocates nothing; it grows if a list ever needs more.
struct MatmulScratch {
  std::vector<uint8_t> xq;
  struct Item {
    int32_t job;
    int64_t r0, r1;
  };
  std::vector<Item> items;
  std::vector<const uint8_t*> job_xq;  // per job: its quantized input (nullptr: F32 path)
  std::vector<uint64_t> job_xq_row;
  void reserve(uint64_t xq_bytes, int64_t max_items, int64_t max_jobs) {
    xq.resize(xq_bytes);
    items.reserve(static_cast<size_t>(max_items));
    job_xq.reserve(static_cast<size_t>(max_jobs));
    job_xq_row.reserve(static_cast<size_t>(max_jobs));
  }
};

// Runs jobs[0..n) as one list. Throws Error when a weight type has no kernel.
void matmul_list(const Kernels& k, ThreadPool& pool, const MatmulJob* jobs, int64_t n, MatmulScratch& scratch);

// Bytes of quantized activations for `rows` rows of `cols` inputs, for any weight type (the
// largest activation block type), for sizing MatmulScratch::xq.
uint64_t matmul_scratch_bytes(int64_t rows, int64_t cols);

}  // namespace moeinfer
