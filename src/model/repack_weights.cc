#include "model/repack_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <vector>

#include "base/error.h"
#include "tensor/repack.h"

namespace moeinfer {

RepackMode parse_repack_mode(const std::string& text, const std::string& option) {
  if (text == "auto") return RepackMode::kAuto;
  if (text == "on") return RepackMode::kOn;
  if (text == "off") return RepackMode::kOff;
  throw UsageError(option, "expected auto, on or off, got '" + text + "'");
}

const char* repack_mode_name(RepackMode m) {
  switch (m) {
    case RepackMode::kAuto: return "auto";
    case RepackMode::kOn: return "on";
    case RepackMode::kOff: return "off";
  }
  return "?";
}

namespace {

uint64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

// Every matrix view that is only ever used through matmul (so a layout change is safe).
std::vector<TensorView*> matmul_views(ModelWeights* w, bool routed_experts) {
  std::vector<TensorView*> v;
  auto ffn = [&](FfnWeights& f) {
    v.push_back(&f.w1);
    v.push_back(&f.w2);
    v.push_back(&f.w3);
  };
  auto layer = [&](LayerWeights& l) {
    for (TensorView* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3, &l.mla.wq, &l.mla.wq_a, &l.mla.wq_b,
                          &l.mla.wkv_a, &l.mla.wo})
      v.push_back(t);
    if (routed_experts)
      for (FfnWeights& e : l.moe.experts) ffn(e);
    ffn(l.moe.shared);
  };
  for (LayerWeights& l : w->layers) layer(l);
  for (MtpWeights& m : w->mtp) {
    layer(m.block);
    v.push_back(&m.eh_proj);
    v.push_back(&m.head);
  }
  v.push_back(&w->output);
  // A tied embedding table is the output head: embedding lookups unpack rows of either layout.
  if (w->tok_embd.data == w->output.data) v.push_back(&w->tok_embd);
  return v;
}

}  // namespace

bool repack_eligible(const TensorView& t, const Kernels& k) {
  return t.valid() && t.layout == Layout::kPlain && has_rows8_layout(t.type) && k.qmatmul_r8(t.type) != nullptr &&
         t.rows() % 8 == 0 && t.cols() % 32 == 0 && t.rows() > 0;
}

namespace {

// Drops the mapped pages wholly inside [p, p + n) (the file still holds them).
void release_mapped(const uint8_t* p, uint64_t n) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t begin = (reinterpret_cast<uint64_t>(p) + page - 1) / page * page;
  const uint64_t end = (reinterpret_cast<uint64_t>(p) + n) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

RepackReport repack_weights(ModelWeights* w, const Kernels& k, RepackMode mode, ThreadPool& pool, bool routed_experts) {
  RepackReport r;
  r.mode = mode;
  // Distinct source matrices (a tied table appears twice) and the views that point at each.
  std::map<const uint8_t*, std::vector<TensorView*>> by_data;
  for (TensorView* t : matmul_views(w, routed_experts))
    if (repack_eligible(*t, k)) by_data[t->data].push_back(t);
  for (const auto& [data, views] : by_data) {
    ++r.eligible;
    r.eligible_bytes += views.front()->nbytes;
  }
  if (r.eligible == 0 || mode == RepackMode::kOff) return r;
  if (mode == RepackMode::kAuto) {
    const uint64_t avail = mem_available_bytes();
    if (avail == 0 || r.eligible_bytes > avail / 2) {
      r.skipped = "the interleaved copies (" + std::to_string(r.eligible_bytes >> 20) + " MiB) would not fit in half of "
                  "the available memory (" + std::to_string(avail >> 20) + " MiB); --repack on forces it";
      return r;
    }
  }
  uint64_t total = 0;
  for (const auto& [data, views] : by_data) total += (views.front()->nbytes + 63) / 64 * 64;
  void* arena = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED) {
    r.skipped = "could not allocate " + std::to_string(total >> 20) + " MiB for the interleaved copies";
    return r;
  }
  ::madvise(arena, total, MADV_HUGEPAGE);
  w->owned_memory.emplace_back(arena, [total](void* p) { ::munmap(p, total); });
  uint8_t* out = static_cast<uint8_t*>(arena);
  for (const auto& [data, views] : by_data) {
    const TensorView& t = *views.front();
    const int64_t groups = t.rows() / 8;
    const uint64_t group_bytes = 8 * t.row_bytes();
    pool.run([&](int thread, int n_threads) {
      int64_t g0, g1;
      split_range(groups, thread, n_threads, 1, &g0, &g1);
      if (g1 > g0)
        repack_rows8(t.type, t.data + static_cast<uint64_t>(g0) * group_bytes, (g1 - g0) * 8, t.cols(),
                     out + static_cast<uint64_t>(g0) * group_bytes);
    });
    release_mapped(t.data, t.nbytes);
    for (TensorView* v : views) {
      v->data = out;
      v->layout = Layout::kRows8;
    }
    ++r.tensors;
    r.bytes += t.nbytes;
    out += (t.nbytes + 63) / 64 * 64;
  }
  return r;
}

}  // namespace moeinfer
