// Writing Hugging Face checkpoints tensor by tensor: config.json for the supported architectures,
// safetensors shards (model.safetensors, or model-0000i-of-0000n.safetensors with
// model.safetensors.index.json once the data passes the shard size), and DeepSeek-style FP8 E4M3
// weights with 128x128 block scales.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "convert/tensor_export.h"
#include "model/config.h"

namespace moeinfer {

struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;  // HF order: [out, in] for a matrix, [n] for a vector
  std::string dtype;           // "F32", "F16", "BF16", or "F8_E4M3" (then `<name>_scale_inv` follows)
  RowFn rows;                  // F32 rows of shape.back() elements

  int64_t cols() const { return shape.back(); }
  int64_t n_rows() const;
};

// config.json text for a llama/mistral/deepseek_v3/deepseek_v2 configuration, as the reference
// checkpoints spell it. torch_dtype: "bfloat16", "float16" or "float32"; fp8 adds DeepSeek's
// quantization_config (e4m3, dynamic activations, 128x128 weight blocks).
std::string hf_config_json(const ModelConfig& c, const std::string& torch_dtype, bool fp8);

// FP8 E4M3 ("e4m3fn") encoding of x, round to nearest even, saturating at ±448; NaN stays NaN.
uint8_t f32_to_fp8_e4m3(float x);

struct HfWriteResult {
  int n_files = 0;
  uint64_t bytes = 0;  // tensor data, scales included
};

// Writes config.json (given text) and the tensors into `dir` (which must exist), starting a new
// shard whenever the next tensor would pass shard_bytes. FP8 tensors are encoded per 128x128 block
// (scale_inv = max|w| / 448 of the block; w ≈ fp8 · scale_inv) and their F32 grid
// [ceil(out/128), ceil(in/128)] follows them as `<name>_scale_inv`.
HfWriteResult write_hf_checkpoint(const std::string& dir, const std::string& config_json,
                                  const std::vector<HfTensor>& tensors, ThreadPool& pool, Progress* progress,
                                  uint64_t shard_bytes);

// Bytes a tensor takes in the checkpoint (its scale grid included).
uint64_t hf_tensor_bytes(const HfTensor& t);

}  // namespace moeinfer
