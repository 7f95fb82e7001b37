#include "cli/bench_accuracy.h"

#include <algorithm>
#include <cmath>

#include "engine/sampler.h"

namespace moeinfer {

AccuracyResult compare_logits(const std::vector<float>& ref, const std::vector<float>& got, int64_t nv) {
  AccuracyResult r;
  r.positions = static_cast<int64_t>(ref.size()) / nv;
  if (r.positions == 0) return r;
  double agree = 0.0, kl = 0.0;
  for (int64_t t = 0; t < r.positions; ++t) {
    const float* p = ref.data() + t * nv;
    const float* q = got.data() + t * nv;
    agree += argmax(p, nv) == argmax(q, nv) ? 1.0 : 0.0;
    // log-softmax of both, in double
    double mp = p[0], mq = q[0];
    for (int64_t i = 1; i < nv; ++i) {
      mp = std::max(mp, static_cast<double>(p[i]));
      mq = std::max(mq, static_cast<double>(q[i]));
    }
    double sp = 0.0, sq = 0.0;
    for (int64_t i = 0; i < nv; ++i) {
      sp += std::exp(p[i] - mp);
      sq += std::exp(q[i] - mq);
    }
    const double lp0 = mp + std::log(sp), lq0 = mq + std::log(sq);
    double d = 0.0;
    for (int64_t i = 0; i < nv; ++i) {
      const double lp = p[i] - lp0, lq = q[i] - lq0;
      d += std::exp(lp) * (lp - lq);
    }
    kl += std::max(0.0, d);
  }
  r.top1_agreement = agree / static_cast<double>(r.positions);
  r.mean_kl = kl / static_cast<double>(r.positions);
  return r;
}

std::vector<float> logits_along(BatchRunner& runner, const std::vector<int32_t>& prompt, int64_t tokens,
                                std::vector<int32_t>* fed, bool forced) {
  const int64_t nv = runner.n_vocab();
  std::vector<float> rows;
  const int32_t seq = runner.kv().add_sequence();
  Batch b;
  int64_t pos = 0;
  for (size_t done = 0; done < prompt.size();) {  // the prompt in chunks of the runner's batch size
    const size_t n = std::min<size_t>(prompt.size() - done, static_cast<size_t>(runner.max_batch()));
    b.clear();
    for (size_t i = 0; i < n; ++i) b.add(prompt[done + i], pos + static_cast<int64_t>(i), seq, done + i + 1 == prompt.size());
    const float* l = runner.run(b);
    if (done + n == prompt.size()) rows.insert(rows.end(), l, l + nv);
    pos += static_cast<int64_t>(n);
    done += n;
  }
  for (int64_t t = 1; t < tokens; ++t) {
    int32_t next;
    if (forced) {
      next = (*fed)[t - 1];
    } else {
      next = argmax(rows.data() + (t - 1) * nv, nv);
      fed->push_back(next);
    }
    b.clear();
    b.add(next, pos++, seq, true);
    const float* l = runner.run(b);
    rows.insert(rows.end(), l, l + nv);
  }
  runner.kv().remove_sequence(seq);
  return rows;
}

}  // namespace moeinfer
