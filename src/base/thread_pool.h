// A persistent pool of worker threads for the many small parallel regions of a forward pass.
//
// Work is a list of items: for_each(n, fn) calls fn(i) once for every i < n; the calling thread
// and the workers take items from one atomic counter, so whoever is running does the work and a
// worker that is asleep or descheduled holds nobody up unless it is in the middle of an item.
// run(fn) is the list of n_threads items fn(i, n_threads): callees split their work statically
// by i (split_range) and may index per-"thread" scratch by i, because no two threads ever run the
// same item at once (items are not bound to OS threads).
//
// Busy machines: workers spin for a bounded time after each job (decode issues hundreds of short
// jobs per token) and then sleep. When the caller waits over half a millisecond for an item a
// worker holds, and that worker's wall time in the job exceeded its CPU time by as much and by a
// quarter of the job (it was preempted, not merely busy with a long item or robbed of a little
// time by a hypervisor), that is a stall. Eight stalls within 256 jobs mean another process shares a worker's core: the pool runs
// the next jobs on the caller alone (a few tokens' worth, doubling while it keeps happening) and
// then tries the workers again. A lone stall (a VM's scheduler does that on an idle host) does not.
// No allocation per job.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace moeinfer {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads >= 1; 1 means run on the caller only
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // fn(i) for every i in [0, n); returns when all have finished.
  template <typename F>
  void for_each(int64_t n, const F& fn) {
    dispatch(Job{&call_item<F>, &fn, n});
  }
  // fn(i, size()) for every i in [0, size()); returns when all have finished.
  template <typename F>
  void run(const F& fn) {
    auto item = [&](int64_t i) { fn(static_cast<int>(i), n_threads_); };
    for_each(n_threads_, item);
  }

  // Default thread count: the hardware concurrency, at least 1.
  static int default_threads();
  // Jobs run on the caller alone because workers stalled, and the stalls seen (statistics, tests).
  uint64_t solo_jobs() const { return solo_jobs_; }
  uint64_t stalls() const { return stalls_; }

 private:
  struct Job {
    void (*call)(const void* fn, int64_t i) = nullptr;
    const void* fn = nullptr;
    int64_t n = 0;
  };
  template <typename F>
  static void call_item(const void* fn, int64_t i) {
    (*static_cast<const F*>(fn))(i);
  }
  void dispatch(const Job& job);
  void drain(const Job& job);  // takes items until none are left
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  Job job_;
  std::atomic<int64_t> next_{0}, done_{0};
  std::atomic<uint64_t> generation_{0}, closed_{0};
  std::atomic<int> active_{0}, sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> preempted_{false};  // a worker lost the CPU inside the current job
  std::mutex mu_;
  std::condition_variable cv_;
  // Stall handling (caller thread only).
  int64_t solo_left_ = 0, solo_len_ = 0, clean_jobs_ = 0, window_jobs_ = 0, window_stalls_ = 0;
  uint64_t solo_jobs_ = 0, stalls_ = 0;
};

// The half-open range [begin, end) of n items that thread `t` of `nt` owns. When `granule` > 1 the
// boundaries are multiples of it (e.g. a cache line of output floats, avoiding false sharing).
inline void split_range(int64_t n, int t, int nt, int64_t granule, int64_t* begin, int64_t* end) {
  int64_t chunks = (n + granule - 1) / granule;
  int64_t c0 = chunks * t / nt, c1 = chunks * (t + 1) / nt;
  *begin = c0 * granule < n ? c0 * granule : n;
  *end = c1 * granule < n ? c1 * granule : n;
}

}  // namespace moeinfer
