// The server's counters for GET /metrics, in the Prometheus text exposition format (version
// 0.0.4): requests by endpoint and status, prompt and generated tokens, queue length, active
// sequences, KV blocks used and free, and histograms of time to first token and time per output
// token. Updated from the HTTP threads and the engine thread; thread-safe.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace moeinfer {

class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  void observe(double seconds);
  // "name_bucket{le=...} n" lines, then _sum and _count.
  std::string text(const std::string& name, const std::string& help) const;

 private:
  mutable std::mutex mu_;
  std::array<uint64_t, kBounds.size()> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0.0;
};

struct ServerMetrics {
  std::atomic<uint64_t> prompt_tokens{0}, generated_tokens{0};
  std::atomic<int64_t> queued{0}, active{0}, kv_blocks_used{0}, kv_blocks_free{0};
  std::atomic<int64_t> prefix_cache_hits{0}, prefix_cache_tokens{0};
  Histogram ttft, tpot;

  void count_request(const std::string& endpoint, int status);
  std::string text() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace moeinfer
