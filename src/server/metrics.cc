#include "server/metrics.h"

#include <cstdio>

namespace moeinfer {

namespace {
std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}
}  // namespace

void Histogram::observe(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) ++counts_[i];
  ++count_;
  sum_ += seconds;
}

std::string Histogram::text(const std::string& name, const std::string& help) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string s = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  for (size_t i = 0; i < kBounds.size(); ++i)
    s += name + "_bucket{le=\"" + num(kBounds[i]) + "\"} " + std::to_string(counts_[i]) + "\n";
  s += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  s += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
  return s;
}

void ServerMetrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
}

std::string ServerMetrics::text() const {
  std::string s = "# HELP moeinfer_requests_total HTTP requests answered, by endpoint and status.\n"
                  "# TYPE moeinfer_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, n] : requests_)
      s += "moeinfer_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  }
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    s += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
         std::to_string(v) + "\n";
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    s += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
         std::to_string(v) + "\n";
  };
  counter("moeinfer_prompt_tokens_total", "Prompt tokens processed.", prompt_tokens.load());
  counter("moeinfer_generated_tokens_total", "Tokens generated.", generated_tokens.load());
  counter("moeinfer_prefix_cache_hits_total", "Requests that started from a cached prompt prefix.",
          static_cast<uint64_t>(prefix_cache_hits.load()));
  counter("moeinfer_prefix_cache_tokens_total", "Prompt tokens taken from the prefix cache.",
          static_cast<uint64_t>(prefix_cache_tokens.load()));
  gauge("moeinfer_queue_length", "Requests waiting for a sequence slot.", queued.load());
  gauge("moeinfer_active_sequences", "Sequences being prefilled or decoded.", active.load());
  gauge("moeinfer_kv_blocks_used", "KV cache blocks in use.", kv_blocks_used.load());
  gauge("moeinfer_kv_blocks_free", "KV cache blocks free within the budget.", kv_blocks_free.load());
  s += ttft.text("moeinfer_time_to_first_token_seconds", "Time from a request's arrival to its first token.");
  s += tpot.text("moeinfer_time_per_output_token_seconds", "Mean time between a request's generated tokens.");
  return s;
}

}  // namespace moeinfer
