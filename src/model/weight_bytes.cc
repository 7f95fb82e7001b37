#include "model/weight_bytes.h"

#include <set>

namespace moeinfer {

namespace {

struct Counter {
  std::set<const uint8_t*> seen;
  uint64_t bytes = 0;
  void add(const TensorView& t) {
    if (t.valid() && seen.insert(t.data).second) bytes += t.nbytes;
  }
  void add(const FfnWeights& f) {
    add(f.w1);
    add(f.w2);
    add(f.w3);
  }
};

void add_layer(const LayerWeights& l, Counter& pinned, Counter& routed) {
  for (const TensorView* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w1, &l.w2, &l.w3, &l.mla.wq,
                              &l.mla.wq_a, &l.mla.q_norm, &l.mla.wq_b, &l.mla.wkv_a, &l.mla.kv_norm, &l.mla.wkv_b,
                              &l.mla.wk_b, &l.mla.wv_b, &l.mla.wo, &l.moe.gate, &l.moe.gate_bias})
    pinned.add(*t);
  pinned.add(l.moe.shared);
  for (const FfnWeights& e : l.moe.experts) routed.add(e);
}

}  // namespace

WeightBytes weight_bytes(const ModelWeights& w) {
  Counter pinned, routed;
  WeightBytes r;
  pinned.add(w.tok_embd);
  pinned.add(w.output_norm);
  pinned.add(w.output);
  for (const LayerWeights& l : w.layers) {
    add_layer(l, pinned, routed);
    if (!l.moe.experts.empty()) ++r.moe_layers;
  }
  for (const MtpWeights& m : w.mtp) {
    for (const TensorView* t : {&m.embed, &m.enorm, &m.hnorm, &m.eh_proj, &m.head_norm, &m.head}) pinned.add(*t);
    add_layer(m.block, pinned, routed);
  }
  r.routed_experts = routed.bytes;
  r.pinned = pinned.bytes;
  return r;
}

}  // namespace moeinfer
