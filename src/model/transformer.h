// The transformer forward pass, composed per layer from blocks chosen by the config:
//   x = embed(tokens); for each layer: x += attn(rmsnorm(x)); x += ffn(rmsnorm(x));
//   logits = output · rmsnorm(x)
// attn is standard GQA attention or MLA (config.mla; naive or absorbed form); ffn is the dense
// SwiGLU or MoE (config.layer_is_moe). A batch (model/batch.h) of rows from one or many sequences
// runs as matmuls over all its rows; each row's K/V is written into the paged KV store
// (model/kv_view.h) at its (sequence, position), then it attends to its own sequence's positions.
// Every buffer lives in RunState, allocated once for a maximum batch.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/matmul_list.h"
#include "model/config.h"
#include "model/expert_source.h"
#include "model/weights.h"
#include "model/batch.h"
#include "model/kv_view.h"

namespace moeinfer {

struct ForwardContext {
  const Kernels& kernels;
  ThreadPool& pool;
  bool mla_absorbed = true;  // MLA form: absorbed (latent cache) or naive (per-head K/V cache)
  ExpertSource* experts = nullptr;  // routed experts of MoE layers (model/expert_source.h); required for MoE
};

// Matmuls of the forward pass: one list (kernels/matmul_list.h) on the run state's scratch.
struct RunState;
void matmul_jobs(const ForwardContext& ctx, RunState& s, const MatmulJob* jobs, int64_t n);
inline void matmul1(const ForwardContext& ctx, RunState& s, const TensorView& w, const float* x, int64_t n_tok,
                    float* y, int64_t ldy = 0) {
  const MatmulJob job{&w, x, n_tok, y, ldy};
  matmul_jobs(ctx, s, &job, 1);
}

// The K/V row sizes a cache needs for this config and MLA form.
void kv_cache_dims(const ModelConfig& c, bool mla_absorbed, int64_t* k_dim, int64_t* v_dim);

// A float buffer that is not zero-filled: pages a run never touches (long-context attention
// scratch sized for the whole context) cost address space, not memory.
struct ScratchF32 {
  std::unique_ptr<float[]> p;
  size_t size = 0;
  void reset(size_t n) {
    p.reset(n ? new float[n] : nullptr);
    size = n;
  }
  float* data() { return p.get(); }
};

// Activation buffers for up to max_batch tokens (F32, row-major [token][feature]).
struct RunState {
  RunState(const ModelConfig& c, int64_t max_batch, int64_t max_ctx, int n_threads);
  int64_t max_batch;
  std::vector<float> x;       // [B][dim] residual stream
  std::vector<float> xb;      // [B][dim] normed input of a block
  std::vector<float> q;       // [B][n_heads * head_dim] (MLA: head_dim = nope + rope)
  std::vector<float> k, v;    // [B][n_kv_heads * head_dim]; naive MLA: [B][n_heads * (nope|v)]
  std::vector<float> att;     // [B][n_heads * max(head_dim, v_head)] attention output before wo
  std::vector<float> out;     // [B][dim] block output before the residual add
  std::vector<float> h1, h3;  // [B][max ffn] gate / up
  std::vector<float> scores;  // [n_threads][max_ctx] attention scratch
  std::vector<float> inv_freq;  // [n_rot / 2] RoPE inverse frequencies (scaling applied)
  std::vector<float> rope_cs;   // [max_batch][n_rot] cosines and sines of each row's position
  // Segments of the current batch (set by prepare_batch): runs of one sequence's rows.
  std::vector<BatchSegment> segs;  // [max_batch]
  int64_t n_segs = 0;
  std::vector<int64_t> short_rows;  // [max_batch] rows of segments attended one query at a time
  int64_t n_short = 0;
  // Tiled prefill attention (GQA): keys transposed [kv_dim][max_keys], values gathered
  // [max_keys][kv_dim], per-thread tiles.
  int64_t max_keys = 0, tile_floats = 0;
  ScratchF32 att_kt, att_vals, att_tiles;
  MatmulScratch mm;  // quantized inputs and items of the current matmul list
  TensorView head_view;  // MLA: one head's rows of wkv_b / wk_b / wv_b (TensorView::rows_slice_to)
  // MLA
  std::vector<float> q_a;      // [B][q_lora_rank]
  std::vector<float> kv_a;     // [B][kv_lora_rank + rope]
  std::vector<float> latent;   // [B][kv_lora_rank] rmsnorm(c)
  std::vector<float> kv_b;     // [B][n_heads * (nope + v_head)] naive: expanded K/V
  std::vector<float> q_abs;    // [B][n_heads][kv_lora_rank] absorbed query
  std::vector<float> att_lat;  // [B][n_heads][kv_lora_rank] attention output in latent space
  // MoE
  std::vector<float> router;   // [B][n_experts] scores
  std::vector<int32_t> route_ids;   // [B][top_k]
  std::vector<float> route_w;       // [B][top_k]
  std::vector<float> route_scratch; // [3 * n_experts]
  std::vector<float> route_bias;    // [n_experts] an unaligned router bias, copied
  std::vector<int32_t> expert_tokens;  // [n_experts][B] token indices per expert
  std::vector<float> expert_tok_w;     // [n_experts][B] their weights
  std::vector<int64_t> expert_count;   // [n_experts]
  std::vector<int32_t> active_experts;  // [n_experts] ids with tokens this batch, ascending
  std::vector<const FfnWeights*> expert_views;  // [n_experts] their weights (ExpertSource)
  // The next layer's predicted experts (ExpertSource::wants_prediction): per-token top-k + margin
  // ids and weights, and each expert's summed probability over the batch.
  std::vector<int32_t> pred_ids;   // [n_experts]
  std::vector<float> pred_w;       // [n_experts]
  std::vector<float> pred_like;    // [n_experts]
  int64_t pred_layer = -1, n_pred = 0;  // a prediction not yet handed to prefetch()
  std::vector<float> xg;       // [B·top_k][dim] every active expert's gathered rows, expert after expert
  std::vector<float> yg;       // [B·top_k][dim] their outputs
  std::vector<float> moe_h1, moe_h3;  // [B·top_k·ffn_e + B·shared ffn] gate / up of the whole list
  std::vector<int64_t> expert_row0;   // [n_experts] first row of each active expert in xg
  std::vector<MatmulJob> jobs;        // [2·(n_experts + 1)] a MoE layer's work lists
  std::vector<float> moe_acc;  // [B][dim] routed sum
};

// Splits b into segments (RunState::segs) and computes each row's RoPE cosines and sines.
// b.n <= s.max_batch. Called by forward(); callers of layer_forward() call it first.
void prepare_batch(const ModelConfig& c, const ForwardBatch& b, RunState& s);

// Runs the batch through the model, writing each row's K/V into kv at its (seq, pos).
// logits: [b.n_out][n_vocab] for the rows b.out_rows; nullptr (or n_out == 0) skips the head.
// hidden (optional): [b.n][dim] receives every row's final hidden state after the output norm.
void forward(const ForwardContext& ctx, const ModelConfig& c, const ModelWeights& w, const KvView& kv, RunState& s,
             const ForwardBatch& b, float* logits, float* hidden = nullptr);

// One transformer layer over s.x (in place): x += attn(rmsnorm(x)); x += ffn(rmsnorm(x)).
// `layer` is the model layer (weights, expert sources); kv_layer selects the KV rows (the MTP
// block uses its own store's layer 0). next: the following layer when it is a MoE layer whose
// experts the expert source wants predicted (ExpertSource::wants_prediction), else nullptr.
void layer_forward(const ForwardContext& ctx, const ModelConfig& c, const LayerWeights& lw, int64_t layer,
                   bool is_moe, int64_t kv_layer, const KvView& kv, RunState& s, const ForwardBatch& b,
                   const LayerWeights* next = nullptr);

}  // namespace moeinfer
