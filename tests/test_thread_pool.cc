#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>
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

TEST(ThreadPool, ForEachRunsEveryItemOnce) {
  for (int n : {1, 2, 3}) {
    ThreadPool pool(n);
    for (int64_t items : {0, 1, 2, 7, 100, 1000}) {
      std::vector<std::atomic<int>> hit(static_cast<size_t>(items));
      pool.for_each(items, [&](int64_t i) { hit[static_cast<size_t>(i)]++; });
      for (auto& h : hit) EXPECT_EQ(h.load(), 1);
    }
  }
}

// A worker that stalls inside its items again and again (here: it sleeps; on a busy machine: it is
// preempted) sends the pool solo: the next jobs run on the caller alone, and results stay exact.
TEST(ThreadPool, RepeatedWorkerStallsRunJobsOnTheCaller) {
  ThreadPool pool(2);
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<int64_t> out(64);
  for (int job = 0; job < 200 && pool.solo_jobs() < 8; ++job) {  // bounded; a loaded CI host may need more jobs
    pool.for_each(64, [&](int64_t i) {
      if (std::this_thread::get_id() != caller) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
      while (std::chrono::steady_clock::now() < until) {
      }  // ~20 µs of work per item, so the worker joins in
      out[static_cast<size_t>(i)] = i * job;
    });
    for (int64_t i = 0; i < 64; ++i) ASSERT_EQ(out[static_cast<size_t>(i)], i * job);
  }
  EXPECT_GE(pool.stalls(), 8u);
  EXPECT_GT(pool.solo_jobs(), 0u);
}

// More threads than cores, many tiny jobs back to back: a worker is often preempted between
// seeing a job and joining it, while the caller finishes that job and the next ones alone. A late
// worker must never take items of a later job with an earlier job's function (which ran items
// twice, left the done count past the item count and hung the caller).
TEST(ThreadPool, LateWorkersNeverJoinALaterJob) {
  ThreadPool pool(6);
  std::vector<int> hit(64);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int64_t jobs = 0;
  while (std::chrono::steady_clock::now() < end) {
    const int64_t n = 1 + jobs % 17;
    const int tag = static_cast<int>(jobs % 1000) + 1;
    pool.for_each(n, [&hit, tag](int64_t i) { hit[static_cast<size_t>(i)] = tag; });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hit[static_cast<size_t>(i)], tag) << "job " << jobs << " item " << i;
    ++jobs;
  }
  EXPECT_GT(jobs, 1000);
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
