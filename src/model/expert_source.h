// Where MoE blocks get their routed experts' weights: the seam between the forward pass and the
// memory that holds experts. A block asks for the experts `ids` of layer `l` it is about to run;
// the views stay valid until it releases that layer. The first implementation is the resident
// one below (views into the mapping or its repacked copies); an expert cache with a memory budget,
// a predictor and prefetch (engine/) plugs in here for models larger than RAM.
//
// Layers are numbered as the forward pass numbers them: 0 .. n_layers-1 for the main model, then
// n_layers + k for the k-th MTP block (DeepSeek-V3).
#pragma once
#include <cstdint>

#include "model/weights.h"

namespace moeinfer {

struct ExpertSourceStats {
  uint64_t acquires = 0;          // acquire() calls
  uint64_t experts_acquired = 0;  // expert views handed out
};

class ExpertSource {
 public:
  virtual ~ExpertSource() = default;
  // out[i] = the weights of expert ids[i] of `layer`, i < n; valid until release(layer).
  virtual void acquire(int64_t layer, const int32_t* ids, int64_t n, const FfnWeights** out) = 0;
  virtual void release(int64_t layer) = 0;
  // The most experts of `layer` one acquire may hold (a cache's slots per layer); callers with
  // more run them in turns of at most this many.
  virtual int64_t capacity(int64_t layer) const { return INT64_MAX; }
  // Whether the forward pass should predict the next layer's experts and call prefetch(), and
  // how many experts beyond top-k to predict.
  virtual bool wants_prediction() const { return false; }
  virtual int64_t prediction_margin() const { return 0; }
  // A hint: these experts of `layer` are likely needed soon, `likelihood[i]` the predicted
  // probability of ids[i] (summed over the batch's tokens). No-op when resident.
  virtual void prefetch(int64_t layer, const int32_t* ids, const float* likelihood, int64_t n) {}
  // Lossy, off unless > 0 (--cache-aware-routing T): a selected expert that is not resident may be
  // replaced by a resident one whose selection score is within T of it (model/blocks/routing.h
  // substitute_resident).
  virtual float routing_tolerance() const { return 0.0f; }
  virtual bool resident(int64_t layer, int32_t expert) const { return true; }
  virtual ExpertSourceStats stats() const = 0;
};

// Every expert resident in memory: the views ModelWeights holds.
class ResidentExperts final : public ExpertSource {
 public:
  explicit ResidentExperts(const ModelWeights& w) : w_(w) {}
  void acquire(int64_t layer, const int32_t* ids, int64_t n, const FfnWeights** out) override {
    const MoeWeights& m = layer < static_cast<int64_t>(w_.layers.size())
                              ? w_.layers[layer].moe
                              : w_.mtp[layer - static_cast<int64_t>(w_.layers.size())].block.moe;
    for (int64_t i = 0; i < n; ++i) out[i] = &m.experts[ids[i]];
    ++stats_.acquires;
    stats_.experts_acquired += static_cast<uint64_t>(n);
  }
  void release(int64_t) override {}
  ExpertSourceStats stats() const override { return stats_; }

 private:
  const ModelWeights& w_;
  ExpertSourceStats stats_;
};

}  // namespace moeinfer
