// Small element-wise and row-wise operations of a transformer forward pass (F32, scalar; they are
// a small fraction of the time next to the matmuls). Every buffer is F32 and contiguous.
#pragma once
#include <cstdint>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "tensor/tensor.h"

namespace moeinfer {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i], i < n; w is an F32/F16/BF16 vector of length n.
void rmsnorm(float* out, const float* x, const TensorView& w, int64_t n, float eps);

// rmsnorm for n_tok rows of dim, split over the pool's threads for a batch.
void rmsnorm_rows(ThreadPool& pool, float* out, const float* x, const TensorView& w, int64_t n_tok, int64_t dim,
                  float eps);

// RoPE on one head vector of `head_dim` floats; only the first `n_rot` dims rotate.
// Interleaved pairing (GGUF llama, DeepSeek rope part): pair i is (x[2i], x[2i+1]).
// NeoX pairing ("rotate_half", HF checkpoints): pair i is (x[i], x[i + n_rot/2]).
// Pair i rotates by angle pos * inv_freq[i], i < n_rot/2, whose cosine and sine rope_cos_sin puts
// at cs[2i], cs[2i+1] once per position (every head of every layer shares them).
void rope_cos_sin(const float* inv_freq, int64_t n_rot, int64_t pos, float* cs);
void rope_interleaved(float* x, int64_t n_rot, const float* cs);
void rope_neox(float* x, int64_t n_rot, const float* cs);

// In-place softmax over n values (max-subtracted), the scalar reference (kernels/act); hot loops
// call the kernel table's softmax() instead.
void softmax(float* x, int64_t n);

// Y = X · Wᵀ with the table's kernel for W's type, rows split over the pool's threads: a list of
// one job (kernels/matmul_list.h) on a per-thread scratch. The forward pass calls matmul_list
// with its run state's scratch instead.
// W ne = {cols, rows}; X is [n_tok][cols]; Y is [n_tok][ldy] (ldy defaults to rows).
void matmul(const Kernels& k, ThreadPool& pool, const TensorView& w, const float* x, int64_t n_tok, float* y,
            int64_t ldy = 0);

// Y = X · W (W applied transposed): W ne = {cols, rows}; X is [n_tok][rows]; Y is [n_tok][ldy]
// with cols outputs per token. Columns are split over the pool's threads.

void matmul_t(const Kernels& k, ThreadPool& pool, const TensorView& w, const float* x, int64_t n_tok, float* y,
              int64_t ldy);

// Copies row `id` of an embedding table (F32/F16/BF16, ne = {dim, n_vocab}) into out[dim].
void embedding_row(float* out, const TensorView& table, int64_t id);

}  // namespace moeinfer
