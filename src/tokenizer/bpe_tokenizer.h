// The Hugging Face `tokenizers` pipeline around a BPE model, built from tokenizer.json
// (hf_tokenizer.h) or from a GGUF "gpt2" vocabulary (gguf_bpe_tokenizer.h).
//
// encode(text, add_special, parse_special):
//  1. invalid UTF-8 in text is replaced by U+FFFD (one per maximal invalid subpart) first, so any
//     byte string is accepted; U+0000 is an ordinary character;
//  2. added tokens are cut out of the raw text (added_tokens.h; special ones only when
//     parse_special);
//  3. every other piece is normalized, pre-tokenized into words, and each word BPE-encoded;
//  4. add_special: the post-processor's ids are put around the result (e.g. BOS in front).
// decode(ids): each known id's token string (added tokens as their content) through the decoder;
// unknown ids are skipped. token_to_piece(id): the bytes one token adds when streaming; "" for
// special added tokens (control tokens).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/hf_decoder.h"
#include "tokenizer/hf_normalizer.h"
#include "tokenizer/hf_pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

// The ids a post-processor puts around one encoded sequence (TemplateProcessing "single").
struct PostProcessor {
  std::vector<int32_t> prefix, suffix;
};

struct BpeTokenizerParts {
  std::unique_ptr<BpeModel> model;           // required
  AddedTokens added;
  std::unique_ptr<Normalizer> normalizer;    // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;  // may be null: the whole piece is one word
  std::unique_ptr<Decoder> decoder;          // may be null: tokens joined with ' '
  PostProcessor post;
  int32_t bos = -1, eos = -1;                // -1 when unknown
  std::vector<int32_t> eog;                  // end-of-generation ids besides eos, any order
  int64_t n_vocab = 0;                       // at least this many ids (GGUF: the token array's length)
};

class BpeTokenizer : public Tokenizer {
 public:
  // Ids of the vocabulary and the added tokens must already be validated (>= 0, bounded).
  explicit BpeTokenizer(BpeTokenizerParts parts);

  std::vector<int32_t> encode(const std::string& text, bool add_special, bool parse_special) const override;
  std::string token_to_piece(int32_t id) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t n_vocab() const override { return static_cast<int64_t>(id_text_.size()); }
  int32_t bos_id() const override { return p_.bos; }
  int32_t eos_id() const override { return p_.eos; }
  // eos plus parts.eog, sorted and unique; ids outside [0, n_vocab()) are dropped.
  std::vector<int32_t> eog_ids() const override { return eog_; }
  bool add_bos() const override { return !p_.post.prefix.empty(); }

  // The token string of an id ("" when the id is unknown).
  const std::string& token_text(int32_t id) const;

 private:
  enum class Kind : uint8_t { kNone, kModel, kAdded, kAddedSpecial };
  BpeTokenizerParts p_;
  std::vector<std::string> id_text_;  // id -> token string
  std::vector<Kind> id_kind_;
  std::vector<int32_t> eog_;
};

}  // namespace moeinfer
