// A loaded model: the mapped file, its configuration, weight views and tokenizer.
#pragma once
#include <memory>
#include <string>

#include "formats/gguf_reader.h"
#include "model/config.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

struct LoadOptions {
  // When false, weights of types the engine cannot compute with yet are accepted (for `info`).
  bool require_usable_types = true;
  bool load_tokenizer = true;
};

class Model {
 public:
  // `path` is a .gguf file (Hugging Face directories come later). Throws Error on bad input.
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& opts = {});

  const std::string& path() const { return path_; }
  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }  // nullptr when absent
  const GgufFile& gguf() const { return *gguf_; }

 private:
  friend struct ArchLoader;
  std::string path_;
  std::unique_ptr<GgufFile> gguf_;
  ModelConfig config_;
  ModelWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace moeinfer
