#include "base/thread_pool.h"

#include <algorithm>
#include <time.h>

#include <chrono>

namespace moeinfer {

namespace {
constexpr int64_t kSpinNanos = 200000;       // a worker spins this long for the next job, then sleeps
constexpr int kWaitSpins = 2048;             // the caller's pauses before it yields while waiting
constexpr int64_t kStallNanos = 500000;      // a wait this long for a worker's item is a stall
constexpr int64_t kSoloFirst = 2048;         // jobs on the caller alone after going solo (~15 decode tokens)
constexpr int64_t kSoloMax = 65536;
constexpr int64_t kCleanReset = 4096;        // parallel jobs without going solo that reset the solo length
constexpr int64_t kStallWindow = 256;        // jobs over which stalls are counted
constexpr int64_t kStallsToSolo = 8;         // stalls within one window that send the pool solo

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
// CPU time of the calling thread: with the wall time it tells a worker that was preempted (wall
// time passing without CPU time) from one that merely had a long item.
inline int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

int ThreadPool::default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads), solo_len_(kSoloFirst) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::drain(const Job& job) {
  for (int64_t i = next_.fetch_add(1); i < job.n; i = next_.fetch_add(1)) {
    job.call(job.fn, i);
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::dispatch(const Job& job) {
  if (job.n <= 0) return;
  if (n_threads_ == 1 || job.n == 1 || solo_left_ > 0) {
    if (solo_left_ > 0) {
      --solo_left_;
      ++solo_jobs_;
    }
    for (int64_t i = 0; i < job.n; ++i) job.call(job.fn, i);
    return;
  }
  // Publish the job: its fields, then the counters, then the generation the workers watch.
  job_ = job;
  next_.store(0);
  done_.store(0);
  const uint64_t gen = generation_.fetch_add(1) + 1;
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  drain(job);
  const int64_t t1 = now_ns();
  // Spin briefly, then yield: if the scheduler put a worker on this core, it needs the CPU.
  for (int spins = 0; done_.load(std::memory_order_acquire) != job.n;)
    if (++spins < kWaitSpins) cpu_relax();
    else std::this_thread::yield();
  const int64_t waited = now_ns() - t1;
  // Close the job: a worker that arrives from now on sees it closed and touches nothing; wait for
  // the ones inside (they may still be looking at the counters).
  closed_.store(gen);
  for (int spins = 0; active_.load() != 0;)
    if (++spins < kWaitSpins) cpu_relax();
    else std::this_thread::yield();
  // A worker preempted while holding an item: the caller waited, and the worker's wall time in
  // this job exceeded its CPU time (a long item alone is not a stall). One now and then is noise
  // (a VM's scheduler does it on an idle host); several within a short window mean another
  // process shares its core.
  const bool preempted = preempted_.exchange(false);
  if (waited > kStallNanos && preempted) {
    ++stalls_;
    ++window_stalls_;
  }
  if (window_stalls_ >= kStallsToSolo) {
    solo_left_ = solo_len_;
    solo_len_ = std::min(solo_len_ * 2, kSoloMax);
    clean_jobs_ = window_jobs_ = window_stalls_ = 0;
  } else {
    if (++window_jobs_ >= kStallWindow) window_jobs_ = window_stalls_ = 0;
    if (++clean_jobs_ >= kCleanReset) {
      solo_len_ = kSoloFirst;
      clean_jobs_ = 0;
    }
  }
}

void ThreadPool::worker(int index) {
  (void)index;
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    if (g == seen) {
      const int64_t until = now_ns() + kSpinNanos;
      int spins = 0;
      while ((g = generation_.load(std::memory_order_acquire)) == seen) {
        cpu_relax();
        if (++spins % 64 == 0 && now_ns() > until) break;
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1);
        cv_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
        g = generation_.load();
      }
    }
    seen = g;
    if (stop_.load()) return;
    active_.fetch_add(1);
    // Job g is still the current job (no later one was published while this worker was away)
    // and still open: then the caller waits for active_ to drop before it closes it, and job_ is
    // job g's until then. A worker preempted after reading g may come back after the caller ran g
    // and later jobs alone; checking closed_ alone let it take a later job's items with g's
    // function, count them done twice and leave the caller waiting forever.
    if (generation_.load() == g && closed_.load() != g) {
      const Job job = job_;
      const int64_t w0 = now_ns(), c0 = thread_cpu_ns();
      drain(job);
      // Lost time: wall time without CPU time. A preemption loses a scheduler slice, most of a
      // short job; a long prefill job on a VM loses a little to the hypervisor, which is not one.
      const int64_t wall = now_ns() - w0, lost = wall - (thread_cpu_ns() - c0);
      if (lost > kStallNanos && 4 * lost > wall) preempted_.store(true);
    }
    active_.fetch_sub(1);
  }
}

}  // namespace moeinfer
