// SentencePiece-style BPE over a GGUF vocabulary (tokenizer.ggml.model == "llama").
//
// Encoding (llama.cpp's SPM semantics, which match SentencePiece/HF "legacy" Llama tokenizers):
//  1. the text is split at added tokens (leftmost-longest; control/unknown ones only when
//     parse_special; user-defined ones always);
//  2. each text segment that is first or follows an added token gets a leading space (when
//     add_space_prefix), then every ' ' becomes U+2581 '▁';
//  3. the segment starts as one symbol per UTF-8 character; repeatedly the adjacent pair whose
//     concatenation is a vocabulary piece with the highest score is merged (ties: leftmost pair);
//  4. each final symbol is its piece's id, or, when no piece exists, one <0xXX> byte token per byte.
// Decoding: '▁' -> ' ', byte tokens -> the raw byte.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace moeinfer {

class GgufFile;

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

class SpmTokenizer : public Tokenizer {
 public:
  // Reads tokenizer.ggml.{tokens,scores,token_type,bos_token_id,eos_token_id,unknown_token_id,
  // add_bos_token,add_space_prefix,eot_token_id,eom_token_id}; throws Error naming the key on
  // malformed data.
  explicit SpmTokenizer(const GgufFile& gguf);

  std::vector<int32_t> encode(const std::string& text, bool add_special, bool parse_special) const override;
  std::string token_to_piece(int32_t id) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t n_vocab() const override { return static_cast<int64_t>(pieces_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  std::vector<int32_t> eog_ids() const override { return eog_; }
  bool add_bos() const override { return add_bos_; }

  const std::string& piece(int32_t id) const { return pieces_[id]; }

 private:
  void encode_segment(const std::string& text, std::vector<int32_t>* out) const;
  void push_bytes(const std::string& s, std::vector<int32_t>* out) const;
  int32_t find(const std::string& piece) const;

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::vector<TokenType> types_;
  std::unordered_map<std::string, int32_t> index_;
  std::vector<int32_t> specials_;  // control / user-defined / unknown ids, matched in raw text
  int32_t byte_ids_[256];
  int32_t bos_ = -1, eos_ = -1, unk_ = -1;
  std::vector<int32_t> eog_;  // gguf_eog_ids(): eos, eot, eom
  bool add_bos_ = true, add_space_prefix_ = true;
};

}  // namespace moeinfer
