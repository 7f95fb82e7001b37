#include "model/model.h"

#include <sys/stat.h>

#include "base/error.h"
#include "model/arch_registry.h"
#include "tokenizer/gguf_tokenizer.h"

namespace moeinfer {

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& opts) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(path, "", "is a directory; Hugging Face model directories are not supported yet, expected a .gguf file");
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  m->gguf_ = GgufFile::open(path);
  const GgufFile& g = *m->gguf_;
  const std::string arch = g.get_string("general.architecture");
  const GgufArch* a = find_gguf_arch(arch);
  if (!a)
    throw Error(path, "general.architecture",
                "unsupported architecture '" + arch + "' (supported: " + supported_gguf_archs() + ")");
  a->read_config(g, &m->config_);
  m->config_.validate(path);
  a->bind_weights(g, m->config_, opts.require_usable_types, &m->weights_);
  if (opts.load_tokenizer && g.has("tokenizer.ggml.model")) {
    m->tokenizer_ = make_gguf_tokenizer(g);
    if (m->tokenizer_->n_vocab() > m->config_.n_vocab)
      throw Error(path, "tokenizer.ggml.tokens",
                  "has " + std::to_string(m->tokenizer_->n_vocab()) + " tokens, more than the model's " +
                      std::to_string(m->config_.n_vocab) + " embedding rows");
  }
  return m;
}

}  // namespace moeinfer
