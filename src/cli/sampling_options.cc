#include "cli/sampling_options.h"

#include <random>

namespace moeinfer {

std::vector<OptSpec> sampling_option_specs() {
  return {
      {"--temp", "", "T", "temperature (default 0.8; 0 = greedy)"},
      {"--top-k", "", "K", "keep the K most likely tokens (default 40; 0 = off)"},
      {"--top-p", "", "P", "keep the smallest set with probability >= P (default 0.95; 1 = off)"},
      {"--min-p", "", "M", "drop tokens below M x the top probability (default 0.05; 0 = off)"},
      {"--repeat-penalty", "", "R", "penalize the last 64 tokens (default 1.0 = off)"},
      {"--seed", "-s", "S", "random seed (default: random); the same seed gives the same text"},
  };
}

SamplerOptions sampling_options(const Args& a) {
  SamplerOptions o;
  o.temperature = static_cast<float>(a.number("--temp", o.temperature, 0.0, 100.0));
  o.top_k = static_cast<int>(a.integer("--top-k", o.top_k, 0, 1 << 30));
  o.top_p = static_cast<float>(a.number("--top-p", o.top_p, 0.0, 1.0));
  o.min_p = static_cast<float>(a.number("--min-p", o.min_p, 0.0, 1.0));
  o.repeat_penalty = static_cast<float>(a.number("--repeat-penalty", o.repeat_penalty, 0.01, 100.0));
  if (a.has("--seed")) {
    o.seed = static_cast<uint64_t>(a.integer("--seed", 0, 0, INT64_MAX));
  } else {
    std::random_device rd;
    o.seed = (static_cast<uint64_t>(rd()) << 32) | rd();
  }
  return o;
}

}  // namespace moeinfer
