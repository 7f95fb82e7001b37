#include "kernels/matmul_list.h"

#include <algorithm>
#include <string>

#include "base/error.h"
#include "base/profiler.h"
#include "kernels/qmatmul/qmatmul.h"

namespace moeinfer {

uint64_t matmul_scratch_bytes(int64_t rows, int64_t cols) {
  uint64_t a = 0, b = 0;
  const int64_t padded = (cols + 255) / 256 * 256;
  dtype_row_bytes(DType::kQ8_K, static_cast<uint64_t>(padded), &a);
  dtype_row_bytes(DType::kQ8_0, static_cast<uint64_t>(padded), &b);
  return static_cast<uint64_t>(rows) * std::max(a, b);
}

namespace {

// Quantizes x [n_tok][cols] into `at` rows at out (split over the pool's threads for a batch).
void quantize_rows(const Kernels& k, ThreadPool& pool, DType at, const float* x, int64_t cols, int64_t n_tok,
                   uint64_t row, uint8_t* out) {
  ScopedOp prof(OpKind::kQuantizeAct);
  const QuantActFn quant = k.quant_act(at);
  if (!quant) throw Error("", "activations", std::string("no quantizer for ") + dtype_name(at));
  // A decode batch's few rows take microseconds: not worth a pool barrier.
  if (pool.size() == 1 || n_tok < 4 || n_tok * cols < 65536) {
    for (int64_t t = 0; t < n_tok; ++t) quant(x + t * cols, cols, out + t * row);
    return;
  }
  pool.run([&](int th, int nt) {
    int64_t t0, t1;
    split_range(n_tok, th, nt, 1, &t0, &t1);
    for (int64_t t = t0; t < t1; ++t) quant(x + t * cols, cols, out + t * row);
  });
}

}  // namespace

void matmul_list(const Kernels& k, ThreadPool& pool, const MatmulJob* jobs, int64_t n, MatmulScratch& s) {
  ScopedOp prof(OpKind::kMatmul);
  // 1. Each distinct (input, activation type) of a quantized weight, quantized once.
  s.job_xq.assign(static_cast<size_t>(n), nullptr);
  s.job_xq_row.assign(static_cast<size_t>(n), 0);
  uint64_t used = 0;
  int64_t work = 0;
  for (int64_t j = 0; j < n; ++j) {
    const TensorView& w = *jobs[j].w;
    work += w.rows() * w.cols() * jobs[j].n_tok;
    const DType at = activation_type(w.type);
    // Kernels are checked here, on the calling thread: the items run on the pool.
    const bool has_kernel = at == DType::kF32 ? k.matmul(w.type) != nullptr
                                              : (w.layout == Layout::kRows8 ? k.qmatmul_r8(w.type) : k.qmatmul(w.type)) != nullptr;
    if (!has_kernel)
      throw Error("", "tensor '" + w.name + "'", std::string("no kernel for ") + dtype_name(w.type) + " in its layout at this ISA");
    if (at == DType::kF32) continue;
    int64_t same = -1;
    for (int64_t i = 0; i < j && same < 0; ++i)
      if (s.job_xq[i] && jobs[i].x == jobs[j].x && jobs[i].n_tok == jobs[j].n_tok &&
          activation_type(jobs[i].w->type) == at && jobs[i].w->cols() == w.cols())
        same = i;
    if (same >= 0) {
      s.job_xq[j] = s.job_xq[same];
      s.job_xq_row[j] = s.job_xq_row[same];
      continue;
    }
    uint64_t row = 0;
    dtype_row_bytes(at, static_cast<uint64_t>(w.cols()), &row);
    const uint64_t bytes = row * static_cast<uint64_t>(jobs[j].n_tok);
    if (used + bytes > s.xq.size()) {
      // Only when the owner's reserve() was too small: earlier inputs must stay where they are.
      if (used > 0) throw Error("", "matmul_list", "scratch too small for the list's inputs");
      s.xq.resize(bytes);
    }
    quantize_rows(k, pool, at, jobs[j].x, w.cols(), jobs[j].n_tok, row, s.xq.data() + used);
    s.job_xq[j] = s.xq.data() + used;
    s.job_xq_row[j] = row;
    used += bytes;
  }
  // 2. Items: each matrix's rows cut into pool-size ranges at multiples of 16 (one range per
  // thread per matrix keeps the decode kernels' long streams; more items than threads balance).
  const int nt = pool.size() > 1 && work >= 32768 ? pool.size() : 1;
  s.items.clear();
  for (int64_t j = 0; j < n; ++j)
    for (int t = 0; t < nt; ++t) {
      int64_t r0, r1;
      split_range(jobs[j].w->rows(), t, nt, 16, &r0, &r1);
      if (r0 < r1) s.items.push_back(MatmulScratch::Item{static_cast<int32_t>(j), r0, r1});
    }
  auto run_item = [&](int64_t i) {
    const MatmulScratch::Item& it = s.items[static_cast<size_t>(i)];
    const MatmulJob& job = jobs[it.job];
    const TensorView& w = *job.w;
    const int64_t ldy = job.ldy > 0 ? job.ldy : w.rows();
    if (const uint8_t* xq = s.job_xq[static_cast<size_t>(it.job)]) {
      const QMatmulFn fn = w.layout == Layout::kRows8 ? k.qmatmul_r8(w.type) : k.qmatmul(w.type);
      QMatmulArgs a{w.data, w.row_bytes(), w.cols(), xq, s.job_xq_row[static_cast<size_t>(it.job)], job.n_tok, job.y, ldy};
      fn(a, it.r0, it.r1);
    } else {
      const MatmulFn fn = k.matmul(w.type);
      MatmulArgs a{w.data, w.row_bytes(), w.cols(), job.x, job.n_tok, job.y, ldy,
                   w.block_scale, w.scale_cols, w.block_rows, w.block_cols, w.scale_row0};
      fn(a, it.r0, it.r1);
    }
  };
  const int64_t n_items = static_cast<int64_t>(s.items.size());
  if (nt == 1) {
    for (int64_t i = 0; i < n_items; ++i) run_item(i);
  } else {
    pool.for_each(n_items, run_item);
  }
}

}  // namespace moeinfer
