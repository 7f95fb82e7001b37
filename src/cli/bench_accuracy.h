// Accuracy preservation for `bench`: a lossy configuration (today: --cache-aware-routing) against
// the exact configuration of the same file. The exact run prefills a prompt and decodes greedily
// for `tokens` positions; the measured run is fed the same tokens. Reported: top-1 agreement (the
// share of positions whose argmax matches) and the mean KL divergence KL(exact || measured).
#pragma once
#include <cstdint>
#include <vector>

#include "cli/common.h"

namespace moeinfer {

struct AccuracyResult {
  int64_t positions = 0;
  double top1_agreement = 0.0;
  double mean_kl = 0.0;
};

// exact / measured switch the runtime between the two configurations (called between passes).
template <typename Exact, typename Measured>
AccuracyResult measure_accuracy(const Runtime& rt, const RunnerOptions& ro, const std::vector<int32_t>& prompt,
                                int64_t tokens, const Exact& exact, const Measured& measured);

// The mean KL(p || q) and top-1 agreement of rows of logits [rows][n_vocab].
AccuracyResult compare_logits(const std::vector<float>& ref, const std::vector<float>& got, int64_t n_vocab);

// Runs prompt + greedy (or forced) tokens, returns the logits of each of `tokens` positions; when
// forced is non-empty those tokens are fed instead of the argmax.
std::vector<float> logits_along(BatchRunner& runner, const std::vector<int32_t>& prompt, int64_t tokens,
                                std::vector<int32_t>* fed, bool forced);

template <typename Exact, typename Measured>
AccuracyResult measure_accuracy(const Runtime& rt, const RunnerOptions& ro, const std::vector<int32_t>& prompt,
                                int64_t tokens, const Exact& exact, const Measured& measured) {
  BatchRunner runner(*rt.model, *rt.kernels, *rt.pool, ro);
  std::vector<int32_t> fed;
  exact();
  const std::vector<float> ref = logits_along(runner, prompt, tokens, &fed, false);
  measured();
  const std::vector<float> got = logits_along(runner, prompt, tokens, &fed, true);
  return compare_logits(ref, got, rt.model->config().n_vocab);
}

}  // namespace moeinfer
