// What writing a LLaMA-family model (Llama 1/2/3, Mistral 7B) needs to know, beyond reading it:
// the GGUF (llama.cpp) and Hugging Face name of every weight with its shape, llama.cpp's `llama.*`
// metadata keys from a ModelConfig, the q/k row permutation between the two layouts, Llama 3's
// rope_freqs factors, and a placeholder SentencePiece vocabulary for files without a tokenizer.
// The name pairs repeat the reading table in arch_llama.cc (which keeps it private).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/gguf_stream_writer.h"
#include "model/config.h"

namespace moeinfer {

struct LlamaTensorSpec {
  enum Kind { kEmbedding, kMatrix, kNorm };
  std::string gguf_name;     // e.g. "blk.3.attn_q.weight"
  std::string hf_name;       // e.g. "model.layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> ne;   // ggml order: {in, out} for a matrix, {dim} for a norm
  Kind kind;
  int64_t permute_head_dim = 0;  // > 0 for attn_q / attn_k: rows are RoPE-permuted per head of this size
};

// Every weight of the model in GGUF file order (token_embd, per block: attn_norm, attn_q, attn_k,
// attn_v, attn_output, ffn_norm, ffn_gate, ffn_down, ffn_up; output_norm, output unless tied).
std::vector<LlamaTensorSpec> llama_tensor_specs(const ModelConfig& c);

// RoPE pairing of q/k rows. HF checkpoints pair (i, i + d/2) in each head ("rotate_half"); llama.cpp's
// converter permutes the rows so that GGUF pairs (2i, 2i + 1) -- per head,
// w.reshape(heads, 2, d/2, in).swapaxes(1, 2). So GGUF row j = 2b + a of a head holds HF row
// a·d/2 + b of the same head. Returns the HF row of GGUF row `row` (any head) for head size d.
inline int64_t hf_row_of_gguf_row(int64_t row, int64_t d) {
  const int64_t h = row / d, j = row % d;
  return h * d + (j % 2) * (d / 2) + j / 2;
}

// Llama 3 ("llama3" rope_scaling) frequency factors, as llama.cpp stores them in `rope_freqs.weight`
// (n_rot/2 F32 values, each base frequency is divided by its factor): 1 for wavelengths below
// original_context / high_freq_factor, `factor` above original_context / low_freq_factor, and
// 1 / ((1 - s) / factor + s) with s = (original_context / wavelength - low) / (high - low) between.
std::vector<float> llama3_rope_factors(const RopeConfig& r);

// general.architecture/name and the llama.* hyperparameters (llama.cpp's convert_hf_to_gguf keys):
// vocab_size, context_length, embedding_length, block_count, feed_forward_length,
// rope.dimension_count, attention.head_count(_kv), attention.layer_norm_rms_epsilon, rope.freq_base,
// attention.key_length/value_length when head_dim != dim / heads, rope.scaling.type/factor (linear).
// context_length is written as given (the caller may clamp it).
void add_llama_gguf_metadata(GgufStreamWriter* w, const ModelConfig& c, int64_t context_length);

// tokenizer.ggml.* for a SentencePiece-style vocabulary of n_vocab tokens that llama.cpp and the
// engine can load: <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF>, then unique filler pieces
// ("▁a", "a", "▁b", ...). For random-weight models and for folders whose tokenizer is not converted.
void add_placeholder_spm_vocab(GgufStreamWriter* w, int64_t n_vocab);

}  // namespace moeinfer
