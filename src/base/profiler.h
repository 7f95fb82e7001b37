// A small wall-clock profiler for `moeinfer bench --profile`: the forward pass marks its phases
// with ScopedOp; times are exclusive (a matmul inside attention counts as matmul, not attention).
// Only the thread that drives a forward pass records (the pool's workers run inside its matmuls),
// so the kinds add up to the wall time of the forward. Off by default: a ScopedOp then costs one
// relaxed load.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>

namespace moeinfer {

enum class OpKind : int {
  kMatmul,        // weight matmuls (the kernels, threads included)
  kQuantizeAct,   // activations quantized for integer kernels
  kAttention,     // scores, softmax, weighted values, KV cache writes (MLA included)
  kNorm,          // RMSNorm
  kRope,          // rotary embeddings
  kActivation,    // SwiGLU
  kRouting,       // MoE router and expert grouping
  kEmbedding,     // token embedding lookups
  kCount,
};

const char* op_kind_name(OpKind k);

class Profiler {
 public:
  // Turns recording on or off; only the calling thread records.
  static void enable(bool on);
  static bool enabled() { return enabled_.load(std::memory_order_relaxed); }
  static void reset();
  // Exclusive seconds and calls per kind since the last reset.
  static std::array<double, static_cast<int>(OpKind::kCount)> seconds();
  static std::array<int64_t, static_cast<int>(OpKind::kCount)> calls();

 private:
  friend class ScopedOp;
  static std::atomic<bool> enabled_;
};

class ScopedOp {
 public:
  explicit ScopedOp(OpKind k);
  ~ScopedOp();
  ScopedOp(const ScopedOp&) = delete;
  ScopedOp& operator=(const ScopedOp&) = delete;

 private:
  OpKind kind_;
  bool on_;
  double start_ = 0.0, child_ = 0.0;
  ScopedOp* parent_ = nullptr;
};

}  // namespace moeinfer
