// Self-consistency of the cache paths (no goldens needed): decoding one token at a time through
// the KV cache must give the same logits as one prefill pass over the same tokens, and so must
// prefill split into batches of any size.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "engine/session.h"
#include "test_util.h"

namespace moeinfer {
namespace {

std::vector<int32_t> some_tokens(int n) {
  std::vector<int32_t> t = {1};
  for (int i = 1; i < n; ++i) t.push_back(static_cast<int32_t>((i * 37 + 11) % 500 + 3));
  return t;
}

double tolerance(const float* ref, int64_t n) {
  double m = 1.0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(ref[i])));
  return 1e-4 * m;
}

class KvConsistency : public ::testing::TestWithParam<int> {};

TEST_P(KvConsistency, DecodeAndChunkedPrefillEqualOnePass) {
  auto m = Model::load(test::shipped_model());
  Kernels k(best_isa());
  ThreadPool pool(2);
  const std::vector<int32_t> toks = some_tokens(120);
  const int64_t nv = m->config().n_vocab, n = static_cast<int64_t>(toks.size());
  SessionOptions one;
  one.max_batch = n;
  Session s1(*m, k, pool, one);
  const float* p = s1.eval(toks, true);
  std::vector<float> ref(p, p + n * nv);

  // Decode: the first chunk_len tokens in one prefill, the rest one at a time.
  const int64_t first = GetParam();
  Session s2(*m, k, pool, one);
  const float* q = s2.eval(toks.data(), first, true);
  for (int64_t t = 0; t < first; ++t) {
    std::vector<float> got(q + t * nv, q + (t + 1) * nv), want(ref.begin() + t * nv, ref.begin() + (t + 1) * nv);
    EXPECT_LE(test::max_abs_diff(got, want), tolerance(want.data(), nv)) << "prefill position " << t;
  }
  for (int64_t t = first; t < n; ++t) {
    const float* d = s2.eval(&toks[t], 1, false);
    std::vector<float> got(d, d + nv), want(ref.begin() + t * nv, ref.begin() + (t + 1) * nv);
    EXPECT_LE(test::max_abs_diff(got, want), tolerance(want.data(), nv)) << "decode position " << t;
  }

  // Chunked prefill: batches of `first` tokens.
  SessionOptions chunked;
  chunked.max_batch = first;
  Session s3(*m, k, pool, chunked);
  const float* c = s3.eval(toks, true);
  std::vector<float> got(c, c + n * nv);
  EXPECT_LE(test::max_abs_diff(got, ref), tolerance(ref.data(), n * nv));
}

INSTANTIATE_TEST_SUITE_P(PrefillLengths, KvConsistency, ::testing::Values(1, 7, 64));

TEST(KvConsistency, ContextOverflowIsAnError) {
  auto m = Model::load(test::shipped_model());
  Kernels k(Isa::kScalar);
  ThreadPool pool(1);
  SessionOptions o;
  o.context = 4;
  Session s(*m, k, pool, o);
  std::vector<int32_t> toks = some_tokens(5);
  EXPECT_THROW(s.eval(toks, false), Error);
  std::vector<int32_t> bad = {1, 512};
  EXPECT_THROW(s.eval(bad, false), Error);
}

}  // namespace
}  // namespace moeinfer
