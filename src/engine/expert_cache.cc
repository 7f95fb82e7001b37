#include "engine/expert_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/error.h"
#include "model/repack_weights.h"
#include "tensor/repack.h"

namespace moeinfer {

namespace {

constexpr uint64_t kAlign = 4096;      // O_DIRECT offsets, lengths and buffers
constexpr uint64_t kMergeGap = 256 << 10;  // spans closer than this are read as one

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

const TensorView& matrix(const FfnWeights& f, int m) { return m == 0 ? f.w1 : m == 1 ? f.w3 : f.w2; }
TensorView& matrix(FfnWeights& f, int m) { return m == 0 ? f.w1 : m == 1 ? f.w3 : f.w2; }

}  // namespace

void ExpertLayerStats::add(const ExpertLayerStats& o) {
  steps += o.steps;
  requests += o.requests;
  hits += o.hits;
  late += o.late;
  misses += o.misses;
  loads += o.loads;
  prefetch_loads += o.prefetch_loads;
  prefetch_unused += o.prefetch_unused;
  prefetch_paused += o.prefetch_paused;
  bytes_read += o.bytes_read;
  wasted_bytes += o.wasted_bytes;
  pred_hits += o.pred_hits;
  pred_actual += o.pred_actual;
  pred_total += o.pred_total;
  stall_s += o.stall_s;
  read_s += o.read_s;
  fill_s += o.fill_s;
}

ExpertCacheStats ExpertCacheStats::since(const ExpertCacheStats& b) const {
  auto diff = [](const ExpertLayerStats& a, const ExpertLayerStats& z) {
    ExpertLayerStats d = a;
    d.steps -= z.steps;
    d.requests -= z.requests;
    d.hits -= z.hits;
    d.late -= z.late;
    d.misses -= z.misses;
    d.loads -= z.loads;
    d.prefetch_loads -= z.prefetch_loads;
    d.prefetch_unused -= z.prefetch_unused;
    d.prefetch_paused -= z.prefetch_paused;
    d.bytes_read -= z.bytes_read;
    d.wasted_bytes -= z.wasted_bytes;
    d.pred_hits -= z.pred_hits;
    d.pred_actual -= z.pred_actual;
    d.pred_total -= z.pred_total;
    d.stall_s -= z.stall_s;
    d.read_s -= z.read_s;
    d.fill_s -= z.fill_s;
    return d;
  };
  ExpertCacheStats r;
  r.total = diff(total, b.total);
  for (size_t i = 0; i < layers.size(); ++i) r.layers.push_back(i < b.layers.size() ? diff(layers[i], b.layers[i]) : layers[i]);
  r.io_busy_s = io_busy_s - b.io_busy_s;
  return r;
}

uint64_t ExpertCache::slot_bytes(const Model& model) {
  uint64_t best = 0;
  for (const LayerWeights& l : model.weights().layers) {
    uint64_t most = 0;
    for (const FfnWeights& f : l.moe.experts) {
      uint64_t b = 0;
      for (int m = 0; m < 3; ++m) b += round_up(matrix(f, m).nbytes, 64);
      most = std::max(most, b);
    }
    best = std::max(best, most);
  }
  return best;
}

uint64_t ExpertCache::staging_bytes(const Model& model, int io_threads) {
  // At most one expert's three spans merged, plus the alignment at both ends.
  return static_cast<uint64_t>(std::max(1, io_threads)) * (slot_bytes(model) + kMergeGap * 2 + 2 * kAlign);
}

ExpertCache::ExpertCache(const Model& model, const Kernels& kernels, const ExpertCacheOptions& o)
    : model_(model), kernels_(kernels), opts_(o), resident_(model.weights()) {
  const ModelConfig& c = model.config();
  if (!c.moe) throw Error(model.path(), "experts", "the model has no routed experts to cache");
  slots_ = std::max<int64_t>(1, std::min(o.slots, c.moe->n_experts));
  margin_ = o.prefetch_margin >= 0 ? o.prefetch_margin : c.moe->n_experts_per_tok / 2;
  tolerance_.store(std::max(0.0f, o.cache_aware_routing));
  const ModelWeights& w = model.weights();
  layer_index_.assign(w.layers.size() + w.mtp.size(), -1);
  for (size_t li = 0; li < w.layers.size(); ++li) {
    if (!c.layer_is_moe(static_cast<int64_t>(li))) continue;
    const MoeWeights& mw = w.layers[li].moe;
    auto L = std::make_unique<Layer>(o.policy, static_cast<int64_t>(mw.experts.size()));
    L->model_layer = static_cast<int64_t>(li);
    L->weights = &mw;
    L->stats.layer = L->model_layer;
    const int64_t ne = static_cast<int64_t>(mw.experts.size());
    L->spans.resize(static_cast<size_t>(ne * 3));
    for (int64_t x = 0; x < ne; ++x) {
      uint64_t at = 0;
      for (int m = 0; m < 3; ++m) {
        const TensorView& t = matrix(mw.experts[x], m);
        Span& sp = L->spans[x * 3 + m];
        sp.nbytes = t.nbytes;
        sp.slot_offset = at;
        sp.repack = o.repack && repack_eligible(t, kernels);
        at += round_up(t.nbytes, 64);
        FileLocation loc;
        if (t.layout == Layout::kPlain && model.tensors().locate(t.data, t.nbytes, &loc)) {
          size_t fi = 0;
          while (fi < files_.size() && files_[fi].path != loc.path) ++fi;
          if (fi == files_.size()) files_.push_back(File{loc.path, -1, -1});
          sp.file = static_cast<int>(fi);
          sp.offset = loc.offset;
        } else {  // owned in memory (or already interleaved): copied, not read
          sp.mem = t.data;
          sp.repack = false;
        }
      }
      L->slot_bytes = std::max(L->slot_bytes, at);
    }
    L->slot_bytes = round_up(L->slot_bytes, 64);
    const int64_t ns = std::min<int64_t>(slots_, ne);
    const uint64_t bytes = std::max<uint64_t>(L->slot_bytes * static_cast<uint64_t>(ns), 64);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw Error(model.path(), "expert cache", "cannot allocate " + std::to_string(bytes >> 20) + " MiB for expert slots");
    ::madvise(p, bytes, MADV_HUGEPAGE);  // as the resident path's repacked copies: fewer TLB misses
    L->arena = static_cast<uint8_t*>(p);
    arena_bytes_ += bytes;
    L->slots.resize(static_cast<size_t>(ns));
    L->where.assign(static_cast<size_t>(ne), -1);
    L->predicted.assign(static_cast<size_t>(ne), 0);
    L->want.assign(static_cast<size_t>(ne), 0);
    L->candidates.reserve(static_cast<size_t>(ns));
    L->order.reserve(static_cast<size_t>(ne));
    layer_index_[li] = static_cast<int32_t>(layers_.size());
    layers_.push_back(std::move(L));
  }
  for (File& f : files_) {
    if (o.direct_io) f.direct_fd = ::open(f.path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    f.fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) throw Error(f.path, "", std::string("cannot open for reading experts: ") + std::strerror(errno));
  }
  for (int i = 0; i < std::max(1, o.io_threads); ++i) io_.emplace_back([this] { io_main(); });
}

ExpertCache::~ExpertCache() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : io_) t.join();
  for (auto& L : layers_) ::munmap(L->arena, std::max<uint64_t>(L->slot_bytes * L->slots.size(), 64));
  for (File& f : files_) {
    if (f.direct_fd >= 0) ::close(f.direct_fd);
    if (f.fd >= 0) ::close(f.fd);
  }
}

ExpertCache::Layer* ExpertCache::layer_of(int64_t model_layer) {
  if (model_layer < 0 || model_layer >= static_cast<int64_t>(layer_index_.size())) return nullptr;
  const int32_t i = layer_index_[model_layer];
  return i < 0 ? nullptr : layers_[i].get();
}

int64_t ExpertCache::capacity(int64_t layer) const {
  if (layer < 0 || layer >= static_cast<int64_t>(layer_index_.size()) || layer_index_[layer] < 0) return INT64_MAX;
  return static_cast<int64_t>(layers_[layer_index_[layer]]->slots.size());
}

int32_t ExpertCache::pick_victim(Layer& L, const std::vector<uint8_t>* keep) {
  // An empty (or failed) slot first, then the policy's choice among loaded, unpinned experts.
  std::vector<int32_t>& cand = L.candidates;
  cand.clear();
  for (size_t i = 0; i < L.slots.size(); ++i) {
    const Slot& s = L.slots[i];
    if (s.pins > 0) continue;
    if (s.state == SlotState::kEmpty || s.state == SlotState::kFailed) return static_cast<int32_t>(i);
    if (s.state == SlotState::kReady && !(keep && (*keep)[s.expert])) cand.push_back(s.expert);
  }
  if (cand.empty()) return -1;
  const int32_t x = cand[L.policy.victim(cand.data(), static_cast<int64_t>(cand.size()))];
  return L.where[x];
}

void ExpertCache::evict(Layer& L, int32_t slot) {
  Slot& s = L.slots[slot];
  if (s.expert >= 0) {
    if (s.prefetched && !s.used) {
      ++L.stats.prefetch_unused;
      L.useful = 0.9 * L.useful;
      if (s.state == SlotState::kReady) L.stats.wasted_bytes += L.slot_bytes;
    }
    L.where[s.expert] = -1;
  }
  s.expert = -1;
  s.state = SlotState::kEmpty;
  s.prefetched = s.used = false;
  s.error.clear();
  ++s.gen;
}

void ExpertCache::acquire(int64_t layer, const int32_t* ids, int64_t n, const FfnWeights** out) {
  Layer* Lp = layer_of(layer);
  if (!Lp) {
    resident_.acquire(layer, ids, n, out);
    return;
  }
  Layer& L = *Lp;
  std::unique_lock<std::mutex> lk(mu_);
  ++src_stats_.acquires;
  src_stats_.experts_acquired += static_cast<uint64_t>(n);
  if (n > static_cast<int64_t>(L.slots.size()))
    throw Error(model_.path(), "expert cache", "more experts asked for at once than the layer has slots");
  ++L.stats.steps;
  L.policy.step();
  std::vector<uint8_t>& want = L.want;
  std::fill(want.begin(), want.end(), 0);
  for (int64_t i = 0; i < n; ++i) want[ids[i]] = 1;
  if (L.has_prediction) {  // score the prediction made for this step
    for (int64_t i = 0; i < n; ++i) L.stats.pred_hits += L.predicted[ids[i]];
    L.stats.pred_actual += static_cast<uint64_t>(n);
    L.stats.pred_total += static_cast<uint64_t>(L.n_predicted);
    L.has_prediction = false;
  }
  // Queued prefetches this step does not need are cancelled before they are read.
  for (size_t i = 0; i < L.slots.size(); ++i)
    if (L.slots[i].state == SlotState::kQueued && L.slots[i].prefetched && !want[L.slots[i].expert])
      evict(L, static_cast<int32_t>(i));
  L.pinned.clear();
  double stall0 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = ids[i];
    L.policy.use(x);
    ++L.stats.requests;
    int32_t si = L.where[x];
    if (si >= 0 && L.slots[si].state == SlotState::kFailed) {
      evict(L, si);
      si = -1;
    }
    if (si >= 0) {
      Slot& s = L.slots[si];
      if (s.state == SlotState::kReady) {
        ++L.stats.hits;
      } else {
        ++L.stats.late;
        if (s.state == SlotState::kQueued) {  // promote the queued prefetch ahead of others
          demand_.push_front(Job{&L, si, s.gen});
          work_cv_.notify_one();
        }
      }
    } else {
      ++L.stats.misses;
      while ((si = pick_victim(L, &want)) < 0) {  // every other slot is pinned or in flight
        if (stall0 == 0.0) stall0 = now_s();
        ready_cv_.wait(lk);
      }
      evict(L, si);
      Slot& s = L.slots[si];
      s.expert = x;
      s.state = SlotState::kQueued;
      L.where[x] = si;
      demand_.push_back(Job{&L, si, s.gen});
      work_cv_.notify_one();
    }
    Slot& s = L.slots[si];
    if (s.prefetched && !s.used) L.useful = 0.9 * L.useful + 0.1;
    s.used = true;
    ++s.pins;
    L.pinned.push_back(si);
  }
  auto pending = [&] {
    for (int32_t si : L.pinned)
      if (L.slots[si].state == SlotState::kQueued || L.slots[si].state == SlotState::kLoading) return true;
    return false;
  };
  if (pending()) {
    if (stall0 == 0.0) stall0 = now_s();
    ready_cv_.wait(lk, [&] { return !pending(); });
  }
  if (stall0 != 0.0) L.stats.stall_s += now_s() - stall0;
  for (int64_t i = 0; i < n; ++i) {
    Slot& s = L.slots[L.pinned[i]];
    if (s.state == SlotState::kFailed) {
      const std::string msg = s.error;
      for (int32_t si : L.pinned) --L.slots[si].pins;
      L.pinned.clear();
      lk.unlock();
      throw Error(model_.path(), "experts", msg);
    }
    out[i] = &s.view;
  }
}

void ExpertCache::release(int64_t layer) {
  Layer* L = layer_of(layer);
  if (!L) return;
  std::lock_guard<std::mutex> lk(mu_);
  for (int32_t si : L->pinned) --L->slots[si].pins;
  L->pinned.clear();
  ready_cv_.notify_all();
}

void ExpertCache::prefetch(int64_t layer, const int32_t* ids, const float* likelihood, int64_t n) {
  Layer* Lp = layer_of(layer);
  if (!Lp || n <= 0) return;
  Layer& L = *Lp;
  std::lock_guard<std::mutex> lk(mu_);
  std::fill(L.predicted.begin(), L.predicted.end(), 0);
  for (int64_t i = 0; i < n; ++i) L.predicted[ids[i]] = 1;
  L.n_predicted = n;
  L.has_prediction = true;
  L.policy.predict(ids, likelihood, n);
  using P = ExpertCacheOptions::Prefetch;
  if (opts_.prefetch == P::kOff) return;
  if (opts_.prefetch == P::kAuto && L.useful < 0.5) {
    if (L.stats.steps < L.next_probe) {
      ++L.stats.prefetch_paused;
      return;
    }
    L.next_probe = L.stats.steps + 32;
    L.useful = 0.5;  // one more round decides
  }
  // Most likely first, at most as many as there are slots.
  std::vector<int64_t>& order = L.order;
  order.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return likelihood[a] > likelihood[b]; });
  // Only the most likely ones are read ahead (top-k for one token): the margin is scored for
  // recall but rarely pays for the disk time it would take.
  const int64_t topk = model_.config().moe->n_experts_per_tok;
  const int64_t ahead = std::max<int64_t>(topk, n * topk / (topk + margin_));
  const int64_t limit = std::min<int64_t>({n, static_cast<int64_t>(L.slots.size()), ahead});
  for (int64_t j = 0; j < limit; ++j) {
    const int32_t x = ids[order[j]];
    if (L.where[x] >= 0) continue;
    const int32_t si = pick_victim(L, &L.predicted);
    if (si < 0) break;
    evict(L, si);
    Slot& s = L.slots[si];
    s.expert = x;
    s.state = SlotState::kQueued;
    s.prefetched = true;
    L.where[x] = si;
    prefetch_.push_back(Job{&L, si, s.gen});
    work_cv_.notify_one();
  }
}

bool ExpertCache::resident(int64_t layer, int32_t expert) const {
  if (layer < 0 || layer >= static_cast<int64_t>(layer_index_.size()) || layer_index_[layer] < 0) return true;
  const Layer& L = *layers_[layer_index_[layer]];
  std::lock_guard<std::mutex> lk(mu_);
  const int32_t si = L.where[expert];
  return si >= 0 && L.slots[si].state == SlotState::kReady;
}

ExpertSourceStats ExpertCache::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return src_stats_;
}

ExpertCacheStats ExpertCache::cache_stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  ExpertCacheStats r;
  for (const auto& L : layers_) {
    r.layers.push_back(L->stats);
    r.total.add(L->stats);
  }
  r.io_busy_s = io_busy_s_ + (io_active_ > 0 ? now_s() - io_busy_since_ : 0.0);
  return r;
}

void ExpertCache::io_main() {
  std::vector<uint8_t> staging;
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    work_cv_.wait(lk, [&] { return stop_ || !demand_.empty() || !prefetch_.empty(); });
    if (stop_) return;
    Job job = demand_.empty() ? prefetch_.front() : demand_.front();
    (demand_.empty() ? prefetch_ : demand_).pop_front();
    Slot& s = job.layer->slots[job.slot];
    if (s.gen != job.gen || s.state != SlotState::kQueued) continue;  // cancelled or taken
    s.state = SlotState::kLoading;
    const int32_t expert = s.expert;
    if (io_active_++ == 0) io_busy_since_ = now_s();
    lk.unlock();
    std::string error;
    double read_s = 0, fill_s = 0;
    load(*job.layer, expert, s, staging, &error, &read_s, &fill_s);
    lk.lock();
    if (--io_active_ == 0) io_busy_s_ += now_s() - io_busy_since_;
    Layer& L = *job.layer;
    if (!error.empty()) {
      s.state = SlotState::kFailed;
      s.error = error;
    } else {
      s.state = SlotState::kReady;
      ++L.stats.loads;
      if (s.prefetched) ++L.stats.prefetch_loads;
      L.stats.bytes_read += L.slot_bytes;
    }
    L.stats.read_s += read_s;
    L.stats.fill_s += fill_s;
    ready_cv_.notify_all();
  }
}

void ExpertCache::read_span(const File& f, uint64_t off, uint64_t n, std::vector<uint8_t>& staging, uint8_t** data,
                            std::string* error) {
  const uint64_t a0 = off / kAlign * kAlign, a1 = round_up(off + n, kAlign);
  const uint64_t len = a1 - a0;
  if (staging.size() < len + kAlign) staging.resize(len + kAlign);
  uint8_t* buf = reinterpret_cast<uint8_t*>(round_up(reinterpret_cast<uintptr_t>(staging.data()), kAlign));
  const uint64_t need = off + n - a0;  // bytes that must arrive (the tail beyond may be past EOF)
  uint64_t got = 0;
  bool direct = f.direct_fd >= 0;
  while (got < need) {
    const ssize_t r = ::pread(direct ? f.direct_fd : f.fd, buf + got, len - got, static_cast<off_t>(a0 + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      if (direct && errno == EINVAL) {  // the file system refuses O_DIRECT here: read through the cache
        direct = false;
        continue;
      }
      *error = std::string("cannot read bytes [") + std::to_string(off) + ", " + std::to_string(off + n) + ") of " +
               f.path + ": " + std::strerror(errno);
      return;
    }
    if (r == 0) {
      *error = f.path + " ends at byte " + std::to_string(a0 + got) + ", before byte " + std::to_string(off + n) +
               " that its index says it holds (the file is shorter than its index, or changed while in use)";
      return;
    }
    got += static_cast<uint64_t>(r);
  }
  if (!direct) ::posix_fadvise(f.fd, static_cast<off_t>(a0), static_cast<off_t>(len), POSIX_FADV_DONTNEED);
  *data = buf + (off - a0);
}

void ExpertCache::load(const Layer& L, int32_t expert, Slot& slot, std::vector<uint8_t>& staging, std::string* error,
                       double* read_s, double* fill_s) {
  uint8_t* dst = L.arena + static_cast<uint64_t>(&slot - L.slots.data()) * L.slot_bytes;
  const FfnWeights& src = L.weights->experts[expert];
  FfnWeights view = src;
  // The three spans in file order; neighbours (within kMergeGap) read as one.
  int idx[3] = {0, 1, 2};
  const Span* sp = &L.spans[static_cast<size_t>(expert) * 3];
  std::sort(idx, idx + 3, [&](int a, int b) {
    return sp[a].file != sp[b].file ? sp[a].file < sp[b].file : sp[a].offset < sp[b].offset;
  });
  int i = 0;
  while (i < 3) {
    const Span& first = sp[idx[i]];
    int j = i + 1;
    uint64_t end = first.offset + first.nbytes;
    if (first.file >= 0)
      while (j < 3 && sp[idx[j]].file == first.file && sp[idx[j]].offset >= first.offset &&
             sp[idx[j]].offset <= end + kMergeGap) {
        end = std::max(end, sp[idx[j]].offset + sp[idx[j]].nbytes);
        ++j;
      }
    uint8_t* base = nullptr;
    const double t0 = now_s();
    if (first.file >= 0) {
      read_span(files_[first.file], first.offset, end - first.offset, staging, &base, error);
      if (!error->empty()) {
        *error = matrix(src, idx[i]).name + " (expert " + std::to_string(expert) + "): " + *error;
        return;
      }
    }
    const double t1 = now_s();
    *read_s += t1 - t0;
    for (int m = i; m < j; ++m) {
      const Span& s = sp[idx[m]];
      const uint8_t* from = s.file >= 0 ? base + (s.offset - first.offset) : s.mem;
      const TensorView& t = matrix(src, idx[m]);
      TensorView& v = matrix(view, idx[m]);
      uint8_t* to = dst + s.slot_offset;
      if (s.repack) {
        repack_rows8(t.type, from, t.rows(), t.cols(), to);
        v.layout = Layout::kRows8;
      } else {
        std::memcpy(to, from, s.nbytes);
      }
      v.data = to;
    }
    *fill_s += now_s() - t1;
    i = j;
  }
  slot.view = view;
}

}  // namespace moeinfer
