#include "tokenizer/gguf_tokenizer.h"

#include "base/error.h"
#include "tokenizer/gguf_bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"

namespace moeinfer {

std::unique_ptr<Tokenizer> make_gguf_tokenizer(const GgufFile& g) {
  const std::string kind = g.get_string("tokenizer.ggml.model");
  if (kind == "llama") return std::make_unique<SpmTokenizer>(g);
  if (kind == "gpt2") return make_gguf_bpe_tokenizer(g);
  if (kind == "none" || kind == "no_vocab") return nullptr;  // llama.cpp's "no vocabulary": token ids only
  throw Error(g.path(), "tokenizer.ggml.model",
              "expected \"llama\" (SentencePiece BPE), \"gpt2\" (byte-level BPE) or \"none\", got '" + kind + "'");
}

}  // namespace moeinfer
