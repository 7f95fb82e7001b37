// Byte-level BPE vocabularies stored in GGUF (tokenizer.ggml.model == "gpt2"), tokenized as
// llama.cpp does, which for these files equals the model's tokenizer.json:
//  - tokenizer.ggml.tokens / token_type / merges ("a b", rank = index); types: 3 (control) and
//    2 (unknown) are special added tokens, matched in the text only when parse_special; 4
//    (user-defined) are non-special added tokens, always matched; the rest are BPE vocabulary;
//  - tokenizer.ggml.pre names the pre-tokenizer: the regexes llama.cpp's llama-vocab.cpp lists for
//    that name, applied in sequence (each splits the pieces of the previous one, keeping matches
//    and the text between them), then the byte-level spelling; llama3 names imply ignore_merges;
//  - BOS is prepended when tokenizer.ggml.add_bos_token says so (default: true for the llama3
//    names, false otherwise, as in llama.cpp); EOS appended when add_eos_token is true;
//  - eog_ids(): eos, eot and eom ids (gguf_eog_ids in gguf_tokenizer.h).
#pragma once
#include <memory>

#include "formats/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

// Throws Error naming the key (tokenizer.ggml.pre for an unknown pre-tokenizer name).
std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& g);

}  // namespace moeinfer
