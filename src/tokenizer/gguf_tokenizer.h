// Builds the tokenizer a GGUF file describes (tokenizer.ggml.model).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "formats/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

// Throws Error naming tokenizer.ggml.model when it is missing or not supported; nullptr for
// "none" (a file without vocabulary: token ids only).
std::unique_ptr<Tokenizer> make_gguf_tokenizer(const GgufFile& g);

// The end-of-generation ids of a GGUF vocabulary of n_vocab tokens (Tokenizer::eog_ids): the
// union of tokenizer.ggml.eos_token_id, eot_token_id and eom_token_id, those present. Values that
// are not a token id in [0, n_vocab) are ignored (llama.cpp writes "none" as -1 or 0xFFFFFFFF);
// a value that is not an integer is an Error naming the key. Sorted, unique.
std::vector<int32_t> gguf_eog_ids(const GgufFile& g, int64_t n_vocab);

}  // namespace moeinfer
