// RoPE inverse frequencies, with the scaling the config names. Pair i of a head rotates by
// angle pos · inv_freq[i], i < n_rot/2. Base: inv_freq[i] = theta^(-2i/n_rot).
//  - linear: inv_freq[i] / factor.
//  - llama3 (Meta's `apply_scaling` in llama/model.py): with wavelen = 2π / f,
//      wavelen < original_context / high_freq_factor  -> f                       (kept)
//      wavelen > original_context / low_freq_factor   -> f / factor              (scaled)
//      otherwise, smooth = (original_context / wavelen - low) / (high - low):
//                                                      (1 - smooth) · f / factor + smooth · f
#pragma once
#include <vector>

#include "model/config.h"

namespace moeinfer {

//  - yarn (DeepSeek model.py precompute_freqs_cis): with corr(n) = d·ln(L / (2π n)) / (2 ln θ),
//      low = max(floor(corr(beta_fast)), 0), high = min(ceil(corr(beta_slow)), d - 1),
//      ramp_i = clamp((i - low) / (high - low), 0, 1): f' = f / factor · ramp + f · (1 - ramp).
std::vector<float> rope_inv_freq(const RopeConfig& r);

// YaRN's magnitude factor: 1 for factor <= 1, else 0.1 · mscale · ln(factor) + 1.
double yarn_mscale(double factor, double mscale);

}  // namespace moeinfer
