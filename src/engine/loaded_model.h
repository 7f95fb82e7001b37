// A model with its tokenizer: what the commands (and later the server) run. The forward pass
// (model/) works on token ids alone; text, and the vocabulary that maps it to ids, live here, one
// layer above it.
#pragma once
#include <memory>
#include <string>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;  // nullptr when the file or folder has none

  // Loads `path` (a .gguf file or a Hugging Face directory) and, when with_tokenizer, its vocabulary:
  // the GGUF's tokenizer.ggml.* keys, or tokenizer.json[.gz] beside the weights. Throws Error naming
  // the file and field.
  static LoadedModel load(const std::string& path, const LoadOptions& opts = {}, bool with_tokenizer = true);
};

// The tokenizer that belongs to a loaded model (nullptr when it has none); checks that it fits the
// model's embedding table.
std::unique_ptr<Tokenizer> load_model_tokenizer(const Model& m);

}  // namespace moeinfer
