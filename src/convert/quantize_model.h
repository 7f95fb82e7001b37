// `moeinfer quantize`: converts a model into a GGUF of another type mix, tensor by tensor.
//  - From a GGUF (any architecture; F32/F16/BF16 or already quantized tensors, which are
//    dequantized first): every metadata key is copied (tokenizer included) except
//    general.alignment (the output uses 32) and split keys; general.file_type and
//    general.quantization_version are set. Tensors keep their names and are written in
//    llama.cpp's order (quant_mix.h), with the types llama.cpp would choose.
//  - From a Llama/Mistral Hugging Face directory: llama.cpp's `llama.*` keys and tensor names,
//    q/k rows permuted from HF's rotate_half layout to GGUF's interleaved pairs, Llama 3 rope
//    scaling as a `rope_freqs.weight` tensor (as llama.cpp's converter writes it), a placeholder
//    vocabulary (the folder's tokenizer.json is not converted).
//  - From a DeepSeek-V2/V3 Hugging Face directory (F32/BF16/FP8; FP8 dequantized with its block
//    scales): llama.cpp's `deepseek2` keys and the current MLA layout (deepseek_export.h), MTP layers
//    as `nextn` blocks, tokenizer.ggml.model = "none" (token ids). llama.cpp's llama architecture has
//    no sliding-window attention, so a Mistral window W shorter than the context is written as
//    context_length = W (exact within it) with a note on stderr.
// Nothing is held in memory beyond a chunk of rows per tensor; the output appears only when
// complete (OUT.part is renamed).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "convert/quant_mix.h"

namespace moeinfer {

struct QuantizeOptions {
  QuantMix mix = QuantMix::kQ8_0;
  int threads = 1;
  bool progress = true;  // progress and per-fallback notes on stderr
};

struct QuantizedTensor {
  std::string name;
  std::vector<int64_t> ne;
  DType from;    // input type
  DType type;    // written type
  DType wanted;  // the mix's choice before the row-length fallback
};

struct QuantizeResult {
  std::vector<QuantizedTensor> tensors;  // in file order
  uint64_t in_bytes = 0, out_bytes = 0;  // tensor data
  int64_t n_fallback = 0;
};

// Throws Error naming the file and field on bad input or I/O failure.
QuantizeResult quantize_model(const std::string& in, const std::string& out, const QuantizeOptions& opts);

}  // namespace moeinfer
