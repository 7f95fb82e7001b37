#include "kernels/ops.h"

#include "base/error.h"
#include "base/profiler.h"
#include "kernels/matmul_list.h"
#include "kernels/qmatmul/qmatmul.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/fp8.h"
#include "tensor/quantize.h"
#include "tensor/repack.h"

namespace moeinfer {

namespace {

// Element `col` of row `row` of t (a float type; FP8 with its block scale). t itself may be a row
// slice: rows count from its first row.
inline float load_elem_rc(const TensorView& t, int64_t row, int64_t col) {
  const uint8_t* base = t.data + static_cast<uint64_t>(row) * t.row_bytes();
  switch (t.type) {
    case DType::kF32: {
      float v;
      std::memcpy(&v, base + 4 * col, 4);
      return v;
    }
    case DType::kF16: {
      uint16_t h;
      std::memcpy(&h, base + 2 * col, 2);
      return f16_to_f32(h);
    }
    case DType::kBF16: {
      uint16_t h;
      std::memcpy(&h, base + 2 * col, 2);
      return bf16_to_f32(h);
    }
    case DType::kF8_E4M3: {
      const float s = t.block_scale[((row + t.scale_row0) / t.block_rows) * t.scale_cols + col / t.block_cols];
      return fp8_e4m3_table()[base[col]] * s;
    }
    default:
      return 0.0f;  // the loader admits only float types for vectors
  }
}

// Element i of a vector (row 0 of t).
inline float load_elem(const TensorView& t, int64_t i) { return load_elem_rc(t, 0, i); }

}  // namespace

void rmsnorm(float* out, const float* x, const TensorView& w, int64_t n, float eps) {
  ScopedOp prof(OpKind::kNorm);
  // Double accumulation, as ggml does, in eight independent partial sums: one serial chain of
  // dependent adds cost 3-4 µs per 2048-wide row in decode. In double the order changes the sum by
  // ~1e-16 relative, far below the float result's rounding.
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) part[k] += static_cast<double>(x[i + k]) * x[i + k];
  for (; i < n; ++i) part[0] += static_cast<double>(x[i]) * x[i];
  const double ss = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  if (w.type == DType::kF32) {  // the usual case: a plain loop the compiler vectorizes
    const float* wf = reinterpret_cast<const float*>(w.data);
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * wf[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * load_elem(w, i);
}

void rmsnorm_rows(ThreadPool& pool, float* out, const float* x, const TensorView& w, int64_t n_tok, int64_t dim,
                  float eps) {
  if (n_tok < 8 || pool.size() == 1) {
    for (int64_t t = 0; t < n_tok; ++t) rmsnorm(out + t * dim, x + t * dim, w, dim, eps);
    return;
  }
  ScopedOp prof(OpKind::kNorm);
  pool.run([&](int th, int nt) {
    int64_t t0, t1;
    split_range(n_tok, th, nt, 1, &t0, &t1);
    for (int64_t t = t0; t < t1; ++t) rmsnorm(out + t * dim, x + t * dim, w, dim, eps);
  });
}

void rope_cos_sin(const float* inv_freq, int64_t n_rot, int64_t pos, float* cs) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq[i];
    cs[2 * i] = std::cos(angle);
    cs[2 * i + 1] = std::sin(angle);
  }
}

void rope_interleaved(float* x, int64_t n_rot, const float* cs) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const float c = cs[2 * i], s = cs[2 * i + 1];
    const float a = x[2 * i], b = x[2 * i + 1];
    x[2 * i] = a * c - b * s;
    x[2 * i + 1] = a * s + b * c;
  }
}

void rope_neox(float* x, int64_t n_rot, const float* cs) {
  const int64_t half = n_rot / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float c = cs[2 * i], s = cs[2 * i + 1];
    const float a = x[i], b = x[i + half];
    x[i] = a * c - b * s;
    x[i + half] = a * s + b * c;
  }
}

void softmax(float* x, int64_t n) { softmax_ref(x, n); }

namespace {

// Runs fn(begin, end) over [0, n) split in multiples of 16 across the pool, or on the calling
// thread when the work (multiply-adds) is small: waking the pool costs more than it saves.
template <typename Fn>
void split_work(ThreadPool& pool, int64_t n, int64_t work, const Fn& fn) {
  if (pool.size() == 1 || work < 32768) {
    fn(int64_t{0}, n);
    return;
  }
  pool.run([&](int t, int nt) {
    int64_t b, e;
    split_range(n, t, nt, 16, &b, &e);
    if (b < e) fn(b, e);
  });
}

// The list scratch of callers outside a forward pass (tools, tests); the forward pass passes its
// run state's (model/transformer.h).
MatmulScratch& fallback_scratch() {
  static thread_local MatmulScratch s;
  return s;
}

}  // namespace

void matmul(const Kernels& k, ThreadPool& pool, const TensorView& w, const float* x, int64_t n_tok, float* y,
            int64_t ldy) {
  const MatmulJob job{&w, x, n_tok, y, ldy};
  matmul_list(k, pool, &job, 1, fallback_scratch());
}

void matmul_t(const Kernels& k, ThreadPool& pool, const TensorView& w, const float* x, int64_t n_tok, float* y,
              int64_t ldy) {
  ScopedOp prof(OpKind::kMatmul);
  const MatmulTFn fn = k.matmul_t(w.type);
  if (fn == nullptr) {
    // Quantized weights (e.g. a Q8_0 attn_kv_b applied transposed by absorbed MLA): dequantize one
    // row at a time and accumulate; scalar, single-threaded, exact to the dequantized values.
    if (!has_quantizer(w.type)) throw Error("", "matmul_t", std::string("no kernel for ") + dtype_name(w.type));
    const int64_t rows = w.rows(), cols = w.cols();
    static thread_local std::vector<float> row;
    row.resize(static_cast<size_t>(cols));
    for (int64_t t = 0; t < n_tok; ++t)
      for (int64_t c = 0; c < cols; ++c) y[t * ldy + c] = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
      embedding_row(row.data(), w, r);  // any layout
      for (int64_t t = 0; t < n_tok; ++t) {
        const float xr = x[t * rows + r];
        float* yt = y + t * ldy;
        for (int64_t c = 0; c < cols; ++c) yt[c] += xr * row[c];
      }
    }
    return;
  }
  MatmulTArgs a{w.data, w.row_bytes(), w.rows(), w.cols(), x, n_tok, y, ldy,
                w.block_scale, w.scale_cols, w.block_rows, w.block_cols, w.scale_row0};
  split_work(pool, w.cols(), w.cols() * w.rows() * n_tok, [&](int64_t c0, int64_t c1) { fn(a, c0, c1); });
}

void embedding_row(float* out, const TensorView& table, int64_t id) {
  const int64_t dim = table.cols();
  if (activation_type(table.type) != DType::kF32) {  // quantized table: dequantize the one row
    if (table.layout == Layout::kRows8) {
      static thread_local std::vector<uint8_t> plain;
      plain.resize(table.row_bytes());
      unpack_row_rows8(table.type, table.data, id, dim, plain.data());
      dequantize_row(table.type, plain.data(), dim, out);
      return;
    }
    dequantize_row(table.type, table.data + static_cast<uint64_t>(id) * table.row_bytes(), dim, out);
    return;
  }
  for (int64_t i = 0; i < dim; ++i) out[i] = load_elem_rc(table, id, i);  // no view copy (its name allocates)
}

}  // namespace moeinfer
