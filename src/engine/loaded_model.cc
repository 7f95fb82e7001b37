#include "engine/loaded_model.h"

#include <sys/stat.h>

#include "base/error.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/hf_tokenizer.h"

namespace moeinfer {

std::unique_ptr<Tokenizer> load_model_tokenizer(const Model& m) {
  std::unique_ptr<Tokenizer> tok;
  if (const GgufFile* g = m.gguf()) {
    if (!g->has("tokenizer.ggml.model")) return nullptr;
    tok = make_gguf_tokenizer(*g);
    if (tok && tok->n_vocab() > m.config().n_vocab)
      throw Error(m.path(), "tokenizer.ggml.tokens",
                  "has " + std::to_string(tok->n_vocab()) + " tokens, more than the model's " +
                      std::to_string(m.config().n_vocab) + " embedding rows");
    return tok;
  }
  // A Hugging Face directory: tokenizer.json (+ tokenizer_config.json) beside the weights.
  struct stat st {};
  if (::stat((m.path() + "/tokenizer.json").c_str(), &st) == 0 ||
      ::stat((m.path() + "/tokenizer.json.gz").c_str(), &st) == 0)
    tok = load_hf_tokenizer(m.path());
  return tok;
}

LoadedModel LoadedModel::load(const std::string& path, const LoadOptions& opts, bool with_tokenizer) {
  LoadedModel lm;
  lm.model = Model::load(path, opts);
  if (with_tokenizer) lm.tokenizer = load_model_tokenizer(*lm.model);
  return lm;
}

}  // namespace moeinfer
