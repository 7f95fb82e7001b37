// Weights of a transformer as typed views into the mapped model file (no copies). Names follow
// the references: Meta's llama (wq, wk, wv, wo, w1 gate, w2 down, w3 up) and DeepSeek's model.py
// (wq_a, q_norm, wq_b, wkv_a, kv_norm, wkv_b). Shapes are [out, in] row-major (ggml ne = {in, out}).
// A layer uses either the standard attention views or `mla`, and either the dense FFN (w1..w3)
// or `moe`, as ModelConfig says.
#pragma once
#include <memory>
#include <vector>

#include "tensor/tensor.h"

namespace moeinfer {

struct FfnWeights {
  TensorView w1;  // [ffn, dim]  gate
  TensorView w2;  // [dim, ffn]  down
  TensorView w3;  // [ffn, dim]  up
};

struct MlaWeights {
  TensorView wq;       // [n_heads * (nope + rope), dim]   when q_lora_rank == 0
  TensorView wq_a;     // [q_lora_rank, dim]
  TensorView q_norm;   // [q_lora_rank]
  TensorView wq_b;     // [n_heads * (nope + rope), q_lora_rank]
  TensorView wkv_a;    // [kv_lora_rank + rope, dim]
  TensorView kv_norm;  // [kv_lora_rank]
  TensorView wkv_b;    // [n_heads * (nope + v_head), kv_lora_rank], head-major rows (HF, legacy GGUF)
  // llama.cpp's current MLA layout splits wkv_b per head: wk_b [n_heads][kv_lora_rank][nope]
  // (W_ukᵀ of each head) and wv_b [n_heads][v_head][kv_lora_rank] (W_uv). Either wkv_b or both of
  // these are bound.
  TensorView wk_b;
  TensorView wv_b;
  TensorView wo;       // [dim, n_heads * v_head]
};

struct MoeWeights {
  TensorView gate;       // [n_experts, dim] router
  TensorView gate_bias;  // [n_experts] e_score_correction_bias (selection only); may be absent
  std::vector<FfnWeights> experts;  // [n_experts], each ffn = expert_ffn_dim
  FfnWeights shared;     // ffn = n_shared × expert_ffn_dim; absent when n_shared == 0
};

struct LayerWeights {
  TensorView attn_norm;  // [dim]
  TensorView wq;         // [n_heads * head_dim, dim]
  TensorView wk;         // [n_kv_heads * head_dim, dim]
  TensorView wv;         // [n_kv_heads * head_dim, dim]
  TensorView wo;         // [dim, n_heads * head_dim]
  MlaWeights mla;
  TensorView ffn_norm;   // [dim]
  TensorView w1;         // [ffn_dim, dim]  gate   (dense layers)
  TensorView w2;         // [dim, ffn_dim]  down
  TensorView w3;         // [ffn_dim, dim]  up
  MoeWeights moe;
};

// DeepSeek-V3 multi-token prediction module (model.layers.{n_layers + k}):
// x = eh_proj(concat(enorm(embed[t_{i+1}]), hnorm(h_i))), one transformer block, then
// head(norm(.)). h_i is the main model's final hidden state after its output norm.
struct MtpWeights {
  TensorView embed;      // [n_vocab, dim] (a copy of the main embedding in the checkpoint)
  TensorView enorm;      // [dim]
  TensorView hnorm;      // [dim]
  TensorView eh_proj;    // [dim, 2 * dim]: columns [0, dim) take enorm(E), [dim, 2 dim) take hnorm(h)
  LayerWeights block;    // MLA + MoE (or dense) block
  TensorView head_norm;  // [dim] shared_head.norm
  TensorView head;       // [n_vocab, dim] shared_head.head
};

struct ModelWeights {
  TensorView tok_embd;     // [n_vocab, dim]
  std::vector<LayerWeights> layers;
  TensorView output_norm;  // [dim]
  TensorView output;       // [n_vocab, dim]; == tok_embd when embeddings are tied
  std::vector<MtpWeights> mtp;  // bound only when LoadOptions::load_mtp
  // Owned copies of FP8 block-scale grids (aligned F32), pointed to by TensorView::block_scale.
  std::vector<std::vector<float>> owned_scales;
  // Memory owned by the weights beyond the mapped files (repacked copies; model/repack_weights.h).
  std::vector<std::shared_ptr<void>> owned_memory;
};

}  // namespace moeinfer
