// `moeinfer make-model`: a model with random weights in the exact shape of a real one (a preset of
// model_presets.h), to benchmark and test at realistic size without downloading weights.
//  - Llama/Mistral: a GGUF when OUT ends in ".gguf" (llama.cpp's keys and names, a placeholder
//    SentencePiece vocabulary, the tensor types of `quantize` for the chosen mix), otherwise a
//    Hugging Face directory (config.json + model.safetensors, sharded with an index past 4 GiB).
//  - DeepSeek-V3/V2: a Hugging Face directory in BF16 (or F16/F32), or FP8 E4M3 Linear weights with
//    128x128 `weight_scale_inv` grids and a quantization_config, like the released checkpoints.
// Weights: matrices N(0, 1/in) (in = row length), norms 1 + N(0, 0.02²), the router bias
// N(0, 0.01²); each row comes from its own counter-based generator keyed by (seed, tensor, row), so
// the output is the same for any thread count, and a GGUF and a directory made with the same seed
// hold the same model (GGUF q/k rows permuted as llama.cpp's converter does). Generated and written
// tensor by tensor, chunk by chunk: memory stays small whatever the model size.
#pragma once
#include <cstdint>
#include <string>

#include "model/config.h"

namespace moeinfer {

struct MakeModelOptions {
  std::string type;    // f32 f16 bf16 q8_0 q4_0 q4_k q6_k q4_k_m fp8; "" = f16 (GGUF) / bf16 (directory)
  uint64_t seed = 0;
  int threads = 1;
  bool progress = true;
  bool dry_run = false;  // compute and report sizes only; nothing is written
  double router_skew = 0;  // > 0: Zipf(S) expert popularity through the router bias (convert/router_skew.h)
};

struct MakeModelResult {
  std::string format;      // "gguf" or "hf"
  int64_t n_params = 0;
  uint64_t bytes = 0;      // tensor data written
  int n_files = 0;         // GGUF: 1; HF: safetensors shards
};

// Throws UsageError for a type the format cannot hold and Error for I/O failures or an OUT that
// exists (a directory must be absent or empty).
MakeModelResult make_model(const ModelConfig& config, const std::string& out, const MakeModelOptions& opts);

}  // namespace moeinfer
