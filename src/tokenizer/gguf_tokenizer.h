// Builds the tokenizer a GGUF file describes (tokenizer.ggml.model).
#pragma once
#include <memory>

#include "formats/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

// Throws Error naming tokenizer.ggml.model when it is missing or not supported; nullptr for
// "none" (a file without vocabulary: token ids only).
std::unique_ptr<Tokenizer> make_gguf_tokenizer(const GgufFile& g);

}  // namespace moeinfer
