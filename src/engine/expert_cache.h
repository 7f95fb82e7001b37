// An expert cache for models larger than memory: the routed experts of each MoE layer live in a
// fixed number of slots (an arena sized from the memory budget, engine/placement.h); everything
// else stays pinned. It implements the forward pass's ExpertSource seam (model/expert_source.h).
//  - acquire: resident experts are hits; the others are loaded on demand into slots chosen by the
//    eviction policy (engine/expert_policy.h) and waited for. The output never depends on the
//    cache: a slot holds the exact bytes of the file (repacked as the resident path would be).
//  - prefetch: the forward pass's predictor (model/blocks/moe.h predict_next_experts) names the
//    next layer's likely experts while this layer computes; they are queued behind demand loads,
//    and a queued prefetch that the layer turns out not to need is cancelled before it is read.
//  - loading: I/O threads pread an expert's three matrices (offsets from the GGUF/safetensors
//    index; spans of one expert that lie close together are read as one) through an O_DIRECT
//    descriptor into an aligned staging buffer, bypassing the page cache (so a memory cgroup
//    neither charges nor thrashes it), then repack or copy them into the slot. A short read or an
//    I/O error is an Error naming the file and tensor.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/expert_policy.h"
#include "kernels/dispatch.h"
#include "model/expert_source.h"
#include "model/model.h"

namespace moeinfer {

struct ExpertCacheOptions {
  int64_t slots = 1;                     // per MoE layer (capped at the layer's experts)
  ExpertPolicy policy = ExpertPolicy::kLfu;
  bool repack = true;                    // slots in the interleaved layout where a kernel takes it
  int io_threads = 4;
  int64_t prefetch_margin = -1;          // experts predicted beyond top-k; -1 = k / 2
  bool predict = true;                   // run the predictor (scored, and used by the predicted policy)
  // Reading predicted experts ahead: kOn always; kAuto while a layer's read-ahead proves useful
  // (most prefetched experts get used; re-tried every 32 steps); kOff never.
  enum class Prefetch { kOff, kAuto, kOn } prefetch = Prefetch::kAuto;
  bool direct_io = true;                 // O_DIRECT when the file system allows it
  float cache_aware_routing = 0.0f;      // lossy, > 0: routing prefers resident experts within this score
};

struct ExpertLayerStats {
  int64_t layer = -1;
  uint64_t steps = 0;            // acquires of the layer (turns of one pass count once each)
  uint64_t requests = 0;         // experts asked for
  uint64_t hits = 0;             // resident and loaded when asked for
  uint64_t late = 0;             // being prefetched when asked for (waited on)
  uint64_t misses = 0;           // absent: loaded on demand
  uint64_t loads = 0;            // expert reads completed (demand + prefetch)
  uint64_t prefetch_loads = 0;
  uint64_t prefetch_unused = 0;  // prefetched experts evicted or cancelled before any use
  uint64_t prefetch_paused = 0;  // predictions not read ahead (kAuto: read-ahead was not paying)
  uint64_t bytes_read = 0;
  uint64_t wasted_bytes = 0;     // bytes of prefetched experts never used
  uint64_t pred_hits = 0, pred_actual = 0, pred_total = 0;  // predictor: |P ∩ A|, |A|, |P|
  double stall_s = 0.0;          // time acquire waited for loads
  double read_s = 0.0, fill_s = 0.0;  // I/O threads' time in pread, and repacking or copying into slots
  void add(const ExpertLayerStats& o);
  double hit_rate() const { return requests ? double(hits) / double(requests) : 0.0; }
  double recall() const { return pred_actual ? double(pred_hits) / double(pred_actual) : 0.0; }
  double precision() const { return pred_total ? double(pred_hits) / double(pred_total) : 0.0; }
};

struct ExpertCacheStats {
  ExpertLayerStats total;
  std::vector<ExpertLayerStats> layers;  // per MoE layer
  double io_busy_s = 0.0;                // wall time with at least one read in flight
  ExpertCacheStats since(const ExpertCacheStats& before) const;
};

class ExpertCache final : public ExpertSource {
 public:
  ExpertCache(const Model& model, const Kernels& kernels, const ExpertCacheOptions& o);
  ~ExpertCache() override;
  ExpertCache(const ExpertCache&) = delete;
  ExpertCache& operator=(const ExpertCache&) = delete;

  void acquire(int64_t layer, const int32_t* ids, int64_t n, const FfnWeights** out) override;
  void release(int64_t layer) override;
  int64_t capacity(int64_t layer) const override;
  bool wants_prediction() const override { return opts_.predict; }
  int64_t prediction_margin() const override { return margin_; }
  void prefetch(int64_t layer, const int32_t* ids, const float* likelihood, int64_t n) override;
  ExpertSourceStats stats() const override;
  float routing_tolerance() const override { return tolerance_.load(); }
  // Turns cache-aware routing on (> 0) or off (0) between forward passes (bench's accuracy check).
  void set_routing_tolerance(float t) { tolerance_.store(t); }
  bool resident(int64_t layer, int32_t expert) const override;

  ExpertCacheStats cache_stats() const;
  const ExpertCacheOptions& options() const { return opts_; }
  int64_t slots() const { return slots_; }
  uint64_t arena_bytes() const { return arena_bytes_; }
  // The bytes one slot of a layer of this model takes (the largest layer's), and the staging
  // memory of the I/O threads: what a budget must hold besides the pinned weights.
  static uint64_t slot_bytes(const Model& model);
  static uint64_t staging_bytes(const Model& model, int io_threads);

 private:
  struct Span {              // one matrix of one expert
    int file = -1;           // index into files_; -1 = copy from `mem` (not in a mapped file)
    uint64_t offset = 0, nbytes = 0;
    const uint8_t* mem = nullptr;
    uint64_t slot_offset = 0;  // where it goes in a slot
    bool repack = false;
  };
  enum class SlotState : uint8_t { kEmpty, kQueued, kLoading, kReady, kFailed };
  struct Slot {
    int32_t expert = -1;
    SlotState state = SlotState::kEmpty;
    uint64_t gen = 0;
    int pins = 0;
    bool prefetched = false, used = false;
    std::string error;
    FfnWeights view;
  };
  struct Layer {
    int64_t model_layer = -1;
    const MoeWeights* weights = nullptr;
    std::vector<Span> spans;           // [n_experts][3]: w1, w3, w2
    uint64_t slot_bytes = 0;
    uint8_t* arena = nullptr;
    std::vector<Slot> slots;
    std::vector<int32_t> where;        // [n_experts] slot or -1
    std::vector<int32_t> pinned;       // slots pinned by the current acquire
    std::vector<uint8_t> predicted;    // [n_experts] the latest prediction, not yet scored
    std::vector<uint8_t> want;         // [n_experts] scratch: the experts of the current acquire
    std::vector<int32_t> candidates;   // scratch: eviction candidates
    std::vector<int64_t> order;        // scratch: predictions by likelihood
    int64_t n_predicted = 0;
    bool has_prediction = false;
    EvictionPolicy policy;
    ExpertLayerStats stats;
    double useful = 1.0;               // decayed share of prefetched experts that got used
    uint64_t next_probe = 0;           // kAuto: the step at which a paused read-ahead is re-tried
    Layer(ExpertPolicy p, int64_t n) : policy(p, n) {}
  };
  struct Job {
    Layer* layer;
    int32_t slot;
    uint64_t gen;
  };
  struct File {
    std::string path;
    int direct_fd = -1, fd = -1;
  };

  Layer* layer_of(int64_t model_layer);
  int32_t pick_victim(Layer& L, const std::vector<uint8_t>* keep);
  void evict(Layer& L, int32_t slot);
  void io_main();
  void load(const Layer& L, int32_t expert, Slot& slot, std::vector<uint8_t>& staging, std::string* error,
            double* read_s, double* fill_s);
  void read_span(const File& f, uint64_t off, uint64_t n, std::vector<uint8_t>& staging, uint8_t** data,
                 std::string* error);

  const Model& model_;
  const Kernels& kernels_;
  ExpertCacheOptions opts_;
  int64_t slots_ = 0, margin_ = 0;
  std::atomic<float> tolerance_{0.0f};
  uint64_t arena_bytes_ = 0;
  std::vector<File> files_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<int32_t> layer_index_;   // model layer -> layers_ index or -1
  ResidentExperts resident_;           // layers the cache does not hold (MTP blocks)

  mutable std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  std::deque<Job> demand_, prefetch_;
  bool stop_ = false;
  int io_active_ = 0;
  double io_busy_s_ = 0.0, io_busy_since_ = 0.0;
  ExpertSourceStats src_stats_;
  std::vector<std::thread> io_;
};

}  // namespace moeinfer
