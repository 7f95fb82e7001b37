#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "base/thread_pool.h"

namespace moeinfer {
namespace {

TEST(ThreadPool, EveryThreadRunsOncePerJob) {
  for (int n : {1, 2, 3, 8}) {
    ThreadPool pool(n);
    for (int job = 0; job < 200; ++job) {
      std::atomic<int> calls{0};
      std::vector<int> seen(n, 0);
      pool.run([&](int t, int nt) {
        EXPECT_EQ(nt, n);
        seen[t]++;
        calls++;
      });
      EXPECT_EQ(calls.load(), n);
      for (int s : seen) EXPECT_EQ(s, 1);
    }
  }
}

TEST(ThreadPool, SplitRangeCoversExactlyOnce) {
  for (int64_t n : {0, 1, 5, 16, 17, 1000}) {
    for (int nt : {1, 2, 3, 7}) {
      for (int64_t g : {1, 4, 16}) {
        std::vector<int> hit(n, 0);
        int64_t prev_end = 0;
        for (int t = 0; t < nt; ++t) {
          int64_t b, e;
          split_range(n, t, nt, g, &b, &e);
          EXPECT_EQ(b, prev_end);
          if (e < n) {
            EXPECT_EQ(e % g, 0);
          }
          for (int64_t i = b; i < e; ++i) hit[i]++;
          prev_end = e;
        }
        EXPECT_EQ(prev_end, n);
        for (int h : hit) EXPECT_EQ(h, 1);
      }
    }
  }
}

}  // namespace
}  // namespace moeinfer
