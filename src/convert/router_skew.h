// make-model --router-skew S: a documented, reproducible skew of expert popularity for random
// weights (whose routing is otherwise near uniform, the worst case for an expert cache).
// In each MoE layer, expert popularity follows Zipf(S) over a random per-layer ranking of the
// experts: the expert of rank r (1-based) is chosen with a share proportional to r^-S of the
// k selections a token makes, capped at one selection per token (the excess is spread over the
// others in proportion, "water-filling"). The skew is carried by the router's selection bias
// (DeepSeek-V3's e_score_correction_bias; written for V2-shape models too, which our loaders and
// llama.cpp's read as `exp_probs_b`), calibrated by simulating the layer's own routing
// (model/blocks/routing.h) on N(0, 1) router logits, the distribution a random router gives.
// The bias changes selection only, as in DeepSeek-V3; expert weights stay unbiased.
// docs/router-skew.md states the definition and what a real model does differently.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace moeinfer {

// Expected selections per token of each expert (sums to k): Zipf(s) over the ranking `rank`
// (rank[x] = 1-based rank of expert x), capped at 1.
std::vector<double> zipf_target(const std::vector<int64_t>& rank, int64_t k, double s);

// The per-layer ranking: a permutation of 1..n from (seed, layer).
std::vector<int64_t> skew_ranking(int64_t n, uint64_t seed, int64_t layer);

// Simulated selections per token of each expert under `bias` (tokens draws of N(0, 1) logits).
std::vector<double> simulate_popularity(const MoeConfig& e, const std::vector<float>& bias, int64_t tokens,
                                        uint64_t seed);

// The bias whose simulated popularity approaches zipf_target(skew_ranking(...), k, s).
std::vector<float> skew_router_bias(const MoeConfig& e, double s, uint64_t seed, int64_t layer);

}  // namespace moeinfer
