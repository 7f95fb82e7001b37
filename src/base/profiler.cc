#include "base/profiler.h"

#include <chrono>
#include <mutex>

namespace moeinfer {

std::atomic<bool> Profiler::enabled_{false};

namespace {

constexpr int kKinds = static_cast<int>(OpKind::kCount);
std::mutex g_mu;
std::array<double, kKinds> g_seconds{};
std::array<int64_t, kKinds> g_calls{};
thread_local ScopedOp* t_current = nullptr;
thread_local bool t_recorder = false;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kMatmul: return "matmul";
    case OpKind::kQuantizeAct: return "quantize activations";
    case OpKind::kAttention: return "attention";
    case OpKind::kNorm: return "rmsnorm";
    case OpKind::kRope: return "rope";
    case OpKind::kActivation: return "swiglu";
    case OpKind::kRouting: return "moe routing";
    case OpKind::kEmbedding: return "embedding";
    case OpKind::kCount: break;
  }
  return "?";
}

void Profiler::enable(bool on) {
  t_recorder = on;
  enabled_.store(on, std::memory_order_relaxed);
}

void Profiler::reset() {
  std::lock_guard<std::mutex> l(g_mu);
  g_seconds.fill(0.0);
  g_calls.fill(0);
}

std::array<double, kKinds> Profiler::seconds() {
  std::lock_guard<std::mutex> l(g_mu);
  return g_seconds;
}

std::array<int64_t, kKinds> Profiler::calls() {
  std::lock_guard<std::mutex> l(g_mu);
  return g_calls;
}

ScopedOp::ScopedOp(OpKind k) : kind_(k), on_(Profiler::enabled() && t_recorder) {
  if (!on_) return;
  parent_ = t_current;
  t_current = this;
  start_ = now();
}

ScopedOp::~ScopedOp() {
  if (!on_) return;
  const double total = now() - start_;
  t_current = parent_;
  if (parent_) parent_->child_ += total;
  std::lock_guard<std::mutex> l(g_mu);
  g_seconds[static_cast<int>(kind_)] += total - child_;
  ++g_calls[static_cast<int>(kind_)];
}

}  // namespace moeinfer
