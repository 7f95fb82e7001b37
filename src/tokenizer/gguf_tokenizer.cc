#include "tokenizer/gguf_tokenizer.h"

#include <algorithm>

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

std::vector<int32_t> gguf_eog_ids(const GgufFile& g, int64_t n_vocab) {
  std::vector<int32_t> out;
  for (const char* key :
       {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    const GgufValue* v = g.find(key);
    if (!v) continue;
    if (!v->is_integer())
      throw Error(g.path(), key, std::string("expected an integer token id, got ") + gguf_type_name(v->type));
    const bool is_signed = v->type == GgufType::kInt8 || v->type == GgufType::kInt16 ||
                           v->type == GgufType::kInt32 || v->type == GgufType::kInt64;
    if (is_signed && v->i < 0) continue;  // -1: none
    const uint64_t id = is_signed ? static_cast<uint64_t>(v->i) : v->u;
    if (n_vocab > 0 && id < static_cast<uint64_t>(n_vocab)) out.push_back(static_cast<int32_t>(id));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace moeinfer
