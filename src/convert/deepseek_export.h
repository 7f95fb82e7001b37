// What writing a DeepSeek-V2/V3 model as llama.cpp's `deepseek2` GGUF needs beyond reading it:
// the tensors of the current MLA layout with their row sources, and the `deepseek2.*` keys.
//
// Tensors come from a loaded model's weight views (any layout the engine reads: a Hugging Face
// folder in F32/BF16/FP8 with block scales, or a GGUF), so the names of the source never matter:
//  - kv_b_proj [n_head·(nope + v), kv_lora] is split per head into attn_k_b, ggml ne
//    {nope, kv_lora, n_head} (each head's W_uk transposed), and attn_v_b, ne {kv_lora, v, n_head};
//  - routed experts are stacked into ffn_{gate,up,down}_exps, ne {in, out, n_expert};
//  - MTP modules become blocks n_layers..n_layers + n_mtp - 1 with `nextn.*` tensors, and
//    `nextn_predict_layers` is written (llama.cpp loads them for its MTP path and skips them
//    otherwise).
// Keys and shapes are those of llama.cpp's converter (convert_hf_to_gguf.py DeepseekV2Model):
// head_count_kv = 1, key_length = kv_lora + rope, value_length = kv_lora, key_length_mla =
// nope + rope, value_length_mla = v, yarn_log_multiplier = 0.1 · mscale_all_dim, and the routing
// keys (expert_gating_func 1 softmax / 2 sigmoid, expert_weights_norm/scale, group counts).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "convert/tensor_export.h"
#include "formats/gguf_stream_writer.h"
#include "model/config.h"
#include "model/weights.h"

namespace moeinfer {

struct SourceTensor {
  std::string name;         // GGUF name
  std::vector<int64_t> ne;  // ggml order
  DType from;               // the source's storage type (for sizes and messages)
  RowFn rows;               // rows as F32, dequantized (FP8 with its block scales) and rearranged
};

// The F32 rows of one bound weight. view_rows dequantizes the view's data (FP8 with its block
// scales); `make-model` supplies random rows keyed by the view's name instead.
using RowsOf = std::function<RowFn(const TensorView&)>;
RowFn view_rows(const TensorView& v);

// Every tensor of the `deepseek2` GGUF (current MLA layout) for a model whose weights were bound
// with load_mtp when it has MTP layers. The views must outlive the returned row functions.
std::vector<SourceTensor> deepseek_gguf_tensors(const ModelConfig& c, const ModelWeights& w,
                                                const RowsOf& rows_of = view_rows);

// general.architecture/name and every deepseek2.* hyperparameter key. Throws Error(file, field)
// when the config cannot be expressed (RoPE scaling other than YaRN).
void add_deepseek_gguf_metadata(GgufStreamWriter* w, const ModelConfig& c, const std::string& file);

}  // namespace moeinfer
