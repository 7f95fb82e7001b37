// Output type mixes for `moeinfer quantize` and `make-model`: which type every tensor of a GGUF
// gets, decided the way llama.cpp's llama-quantize decides it (src/llama-quant.cpp:
// tensor_allows_quantization, llama_tensor_get_type, tensor_type_fallback), so that our files have
// the same tensor types as llama.cpp's for the same model and type.
//
// Rules implemented (for the mixes below; llama.cpp's IQ/Q2/Q3/Q5_K_M rules are not needed):
//  - only tensors with >= 2 dims whose name ends in "weight" are converted, never "*_norm.weight"
//    or the MoE router "ffn_gate_inp.weight"; every other tensor is written as F32;
//  - F32/F16/BF16 mixes: every convertible tensor gets that type;
//  - quantized mixes: the default type, except
//      output.weight (and token_embd.weight when the embeddings are tied): Q6_K unless the mix is
//        Q8_0, or Q8_0 when its rows are not a multiple of the default type's block;
//      attn_v / attn_qkv / attn_kv_b (counted in file order, i of n): Q4_K_M -> Q6_K when
//        use_more_bits(i, n), Q4_K_S -> Q5_K for i < 4; 70B llama (80 layers, GQA) Q4_K -> Q5_K;
//        8-expert models -> Q8_0 (attn_k too);
//      ffn_down of layer i of n: Q4_K_M -> Q6_K when use_more_bits(i, n); Q4_K_S -> Q5_K for i < n/8;
//      attn_output of 8-expert models: Q4_K_S/Q4_K_M -> Q5_K;
//    where use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2;
//  - fallback when a row (ne[0]) is not a multiple of the chosen type's block size:
//      Q4_K -> Q5_0, Q6_K -> Q8_0, Q5_K -> Q5_0 (llama.cpp: Q5_1, a type the engine lacks),
//      Q8_0 / Q4_0 / Q5_0 -> F16; and F16 when the fallback still does not fit. (llama.cpp at
//      de3ff815 writes F16 for stories260K's 172-wide ffn_down in Q8_0 and Q4_0 files.)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace moeinfer {

enum class QuantMix { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_K_S, kQ4_K_M, kQ6_K };

struct QuantMixInfo {
  QuantMix mix;
  const char* name;      // the --type spelling
  uint32_t llama_ftype;  // general.file_type: llama.h enum llama_ftype
  DType default_type;
  bool quantized;        // the default type is a block format
};

// By --type name: f32 f16 bf16 q8_0 q4_0 q4_k (= llama.cpp Q4_K_S) q4_k_s q4_k_m q6_k; nullptr if unknown.
const QuantMixInfo* find_quant_mix(const std::string& name);
const QuantMixInfo& quant_mix_info(QuantMix mix);
// "f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|q4_k_m" (q4_k_s is accepted too).
std::string quant_mix_names();

struct PlanTensor {
  std::string name;  // GGUF name
  std::vector<int64_t> ne;  // ggml order
};

struct PlanModel {
  int64_t n_layers = 0;   // <arch>.block_count
  int64_t n_experts = 0;  // <arch>.expert_count (0 or 1: dense)
  bool llama_70b = false; // llama.cpp's LLM_TYPE_70B: llama with 80 layers and GQA
};

struct PlannedType {
  DType type;          // what is written
  DType wanted;        // what the rules chose before the row-length fallback
  bool converted;      // false: not a convertible weight (norms, 1-D): written as F32
};

// The types of `tensors`, which must be in llama.cpp's order (see sort_like_llama_cpp): the
// attn_v and ffn_down counters run in that order.
std::vector<PlannedType> plan_tensor_types(const QuantMixInfo& mix, const std::vector<PlanTensor>& tensors,
                                           const PlanModel& model);

// llama.cpp's weight order (llama_model_loader's weight_name_comparer): tensors outside blocks
// first, then by block index ("blk.N."), then by name. Returns the permutation of indices.
std::vector<size_t> llama_cpp_tensor_order(const std::vector<std::string>& names);

}  // namespace moeinfer
