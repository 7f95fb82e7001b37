// A Hugging Face tokenizer (tokenizer.json, tokenizer_config.json, the chat template) written as
// the GGUF vocabulary llama.cpp reads:
//   - byte-level BPE (a ByteLevel pre-tokenizer: Llama 3, DeepSeek-V3) as tokenizer.ggml.model
//     "gpt2" with tokens, token types and merges, and tokenizer.ggml.pre naming the pre-tokenizer
//     whose regexes the file's Split patterns are (llama-bpe, deepseek-v3);
//   - SentencePiece-style BPE (byte fallback, '▁' for spaces: Llama 2, Mistral) as "llama" with
//     tokens, scores (minus the id: SentencePiece vocabularies are ordered by score, and HF's
//     merges by the same order) and token types (byte <0xXX>, unknown, control, user-defined);
// plus the BOS/EOS/end-of-generation ids, add_bos_token and the chat template. A vocabulary
// shorter than the model's embedding is padded with unused [PADn] tokens, as llama.cpp's converter
// does. A tokenizer that cannot be represented is an Error naming the file and field.
#pragma once
#include <cstdint>
#include <string>

#include "formats/gguf_stream_writer.h"

namespace moeinfer {

// Adds the tokenizer.ggml.* keys (and tokenizer.chat_template when there is one) for the tokenizer
// in dir. Returns false when dir has no tokenizer.json[.gz] (nothing written).
bool add_hf_tokenizer_to_gguf(GgufStreamWriter* w, const std::string& dir, int64_t n_vocab);

}  // namespace moeinfer
