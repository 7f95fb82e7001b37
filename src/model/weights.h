// Weights of a LLaMA-family transformer as typed views into the mapped model file (no copies).
// Names follow the reference (Meta's llama / llama2.c): wq, wk, wv, wo, w1 (gate), w2 (down), w3 (up).
// Shapes are [out, in] row-major (ggml ne = {in, out}).
#pragma once
#include <vector>

#include "tensor/tensor.h"

namespace moeinfer {

struct LayerWeights {
  TensorView attn_norm;  // [dim]
  TensorView wq;         // [n_heads * head_dim, dim]
  TensorView wk;         // [n_kv_heads * head_dim, dim]
  TensorView wv;         // [n_kv_heads * head_dim, dim]
  TensorView wo;         // [dim, n_heads * head_dim]
  TensorView ffn_norm;   // [dim]
  TensorView w1;         // [ffn_dim, dim]  gate
  TensorView w2;         // [dim, ffn_dim]  down
  TensorView w3;         // [ffn_dim, dim]  up
};

struct ModelWeights {
  TensorView tok_embd;     // [n_vocab, dim]
  std::vector<LayerWeights> layers;
  TensorView output_norm;  // [dim]
  TensorView output;       // [n_vocab, dim]; == tok_embd when embeddings are tied
};

}  // namespace moeinfer
