// A loaded model: the mapped weights (a GGUF file or a Hugging Face directory of safetensors),
// its configuration and weight views. Its tokenizer is loaded above this layer
// (engine/loaded_model.h): the forward pass works on ids alone.
#pragma once
#include <memory>
#include <string>

#include "formats/gguf_reader.h"
#include "formats/safetensors.h"
#include "model/config.h"
#include "model/weights.h"

namespace moeinfer {

struct LoadOptions {
  // When false, weights of types the engine cannot compute with yet are accepted (for `info`).
  bool require_usable_types = true;
  // Bind the multi-token-prediction layers too (DeepSeek-V3); off by default so that a user who
  // does not ask for MTP pays no memory for it.
  bool load_mtp = false;
};

class Model {
 public:
  // `path` is a .gguf file or a Hugging Face model directory (config.json + *.safetensors).
  // Throws Error naming the file and field on bad input.
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& opts = {});

  const std::string& path() const { return path_; }
  const char* format() const { return gguf_ ? "gguf" : "hf"; }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  // For load-time layout changes (model/repack_weights.h) before any session runs.
  ModelWeights& mutable_weights() { return weights_; }
  const TensorSet& tensors() const { return *tensors_; }
  const GgufFile* gguf() const { return gguf_.get(); }  // nullptr for HF directories

 private:
  void load_gguf(const LoadOptions& opts);
  void load_hf_dir(const LoadOptions& opts);

  std::string path_;
  std::unique_ptr<GgufFile> gguf_;
  std::unique_ptr<SafetensorsSet> safetensors_;
  const TensorSet* tensors_ = nullptr;
  ModelConfig config_;
  ModelWeights weights_;
};

}  // namespace moeinfer
