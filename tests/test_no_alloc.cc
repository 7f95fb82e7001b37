// No allocation inside a forward step: after one warm-up step of each shape, a decode step and a
// prefill chunk through BatchRunner::run allocate nothing (operator new is counted process-wide
// while the flag is up, worker threads included). Blocks the KV store may add between steps are
// outside this check (the steps below stay within allocated blocks).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/batch_runner.h"
#include "kernels/dispatch.h"
#include "model/model.h"
#include "test_util.h"

// The replacements below pair malloc with free; GCC cannot see that through new-expressions.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

// Every plain and nothrow form is replaced, so that whatever allocates here frees with the matching
// form (a sanitizer checks the pairing); the aligned forms keep the library's own pair.
namespace {
void* counted_alloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace moeinfer {
namespace {

class NoAlloc : public ::testing::TestWithParam<const char*> {};

TEST_P(NoAlloc, ForwardStepsAllocateNothing) {
  auto m = Model::load(test::data_path(GetParam()));
  const int64_t nv = m->config().n_vocab;
  Kernels k(best_isa());
  ThreadPool pool(2);
  RunnerOptions ro;
  ro.max_batch = 32;
  ro.max_seqs = 2;
  BatchRunner r(*m, k, pool, ro);
  const int32_t a = r.kv().add_sequence(), b = r.kv().add_sequence();
  Batch prefill, decode;
  auto fill = [&](int64_t from) {
    prefill.clear();
    for (int64_t i = 0; i < 16; ++i) prefill.add(static_cast<int32_t>((i * 7 + from) % nv), from + i, a, i == 15);
  };
  auto step = [&]() {
    decode.clear();
    decode.add(5, r.kv().length(a), a, true);
    decode.add(9, r.kv().length(b), b, true);
  };
  // Warm-up: one step of each shape (grows the per-thread scratch of the kernels once).
  fill(0);
  r.run(prefill);
  decode.clear();
  decode.add(3, 0, b, true);
  r.run(decode);
  step();
  r.run(decode);
  fill(r.kv().length(a));
  g_allocations = 0;
  g_counting = true;
  r.run(prefill);
  step();  // Batch::add reuses its vectors' capacity
  r.run(decode);
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Models, NoAlloc, ::testing::Values("tiny-llama3", "tiny-mistral", "tiny-deepseek-v3",
                                                           "gguf/tiny-deepseek-v3.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-' || c == '/' || c == '.') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace moeinfer
