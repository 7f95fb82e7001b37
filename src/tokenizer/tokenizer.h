// The tokenizer interface every vocabulary implements (SentencePiece-style BPE from GGUF now;
// tokenizer.json BPE later).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace moeinfer {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Text -> ids. add_special: prepend BOS when the vocabulary says so. parse_special: text that
  // spells a special (control) token is matched as that token; non-special added tokens always are.
  virtual std::vector<int32_t> encode(const std::string& text, bool add_special, bool parse_special) const = 0;
  // The bytes one token stands for when streaming generated text (control tokens give "").
  virtual std::string token_to_piece(int32_t id) const = 0;
  // Ids -> text with HF `decode(skip_special_tokens=false)` semantics (special tokens as their text).
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;

  virtual int64_t n_vocab() const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when none
  virtual int32_t eos_id() const = 0;  // -1 when none
  // End-of-generation ids: sampling any of them ends a sequence (the id itself is not part of
  // the text). Sorted, unique, each in [0, n_vocab()), never -1; may be empty. Where they come
  // from: GGUF: tokenizer.ggml.{eos,eot,eom}_token_id (gguf_tokenizer.h); Hugging Face: the
  // tokenizer's eos plus eos_token_id of config.json and generation_config.json (hf_tokenizer.h).
  // The default is eos_id() alone.
  virtual std::vector<int32_t> eog_ids() const {
    const int32_t e = eos_id();
    return e >= 0 && e < n_vocab() ? std::vector<int32_t>{e} : std::vector<int32_t>{};
  }
  virtual bool add_bos() const = 0;
};

}  // namespace moeinfer
