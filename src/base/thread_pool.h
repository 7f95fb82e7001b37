// A persistent pool of worker threads for the many small operations of a forward pass.
// run(fn) calls fn(thread_index, n_threads) once on every thread (the caller is thread 0) and
// returns when all have finished; work is split statically by the callee (see split_range), so
// threads touch disjoint output rows. Workers spin briefly before sleeping, because decode issues
// hundreds of short jobs per token.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
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
  void run(const std::function<void(int thread, int n_threads)>& fn);

  // Default thread count: the hardware concurrency, at least 1.
  static int default_threads();

 private:
  void worker(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
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
