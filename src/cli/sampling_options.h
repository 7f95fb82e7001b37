// Sampling flags shared by `run` and `generate`.
#pragma once
#include <vector>

#include "cli/args.h"
#include "engine/sampler.h"

namespace moeinfer {

std::vector<OptSpec> sampling_option_specs();
// Reads --temp/--top-k/--top-p/--min-p/--repeat-penalty/--seed; without --seed, a random seed.
SamplerOptions sampling_options(const Args& a);

}  // namespace moeinfer
