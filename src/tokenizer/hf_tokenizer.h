// Hugging Face tokenizer.json (+ tokenizer_config.json) -> Tokenizer, with the semantics of the HF
// `tokenizers` library as ../shared/testdata/tokenizers/README.md pins them down.
//
// Supported: model BPE (vocab; merges as "a b" strings or ["a", "b"] pairs; byte_fallback,
// ignore_merges, fuse_unk, unk_token, continuing_subword_prefix, end_of_word_suffix), added_tokens,
// the normalizers / pre-tokenizers / decoders listed in hf_normalizer.h, hf_pretokenizer.h and
// hf_decoder.h, post-processors TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel
// and Sequence. Anything else is an Error naming the field, never a silent approximation.
//
// tokenizer_config.json (beside tokenizer.json, optional) supplies bos_token / eos_token, and for
// the Llama-family classes (LlamaTokenizer[Fast], CodeLlamaTokenizer[Fast], GemmaTokenizer[Fast])
// the post-processor is rebuilt from add_bos_token (default true) and add_eos_token (default
// false), as HF transformers does when it loads them (DeepSeek-V3's BOS comes from this rule).
//
// eog_ids(): the tokenizer's eos plus eos_token_id of config.json and generation_config.json
// beside tokenizer.json, each optional: an integer, a list of integers or null. Anything else is
// an Error naming the file and eos_token_id; negative values and ids outside the vocabulary are
// left out.
#pragma once
#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace moeinfer {

// path: a tokenizer.json file (gzip-compressed accepted, e.g. tokenizer.json.gz) or the directory
// holding tokenizer.json (or tokenizer.json.gz). Throws Error(file, field, ...) on malformed input.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path);

// What `tokenize --tokenizer PATH` and `-m MODEL` accept: a directory (HF layout), a GGUF file
// (recognized by its magic; vocab-only files included) or a tokenizer.json[.gz] file.
std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path);

}  // namespace moeinfer
