#include "convert/quant_mix.h"

#include <algorithm>
#include <cstdio>

namespace moeinfer {

namespace {

constexpr QuantMixInfo kMixes[] = {
    {QuantMix::kF32, "f32", 0, DType::kF32, false},        {QuantMix::kF16, "f16", 1, DType::kF16, false},
    {QuantMix::kBF16, "bf16", 32, DType::kBF16, false},    {QuantMix::kQ8_0, "q8_0", 7, DType::kQ8_0, true},
    {QuantMix::kQ4_0, "q4_0", 2, DType::kQ4_0, true},      {QuantMix::kQ4_K_S, "q4_k", 14, DType::kQ4_K, true},
    {QuantMix::kQ4_K_M, "q4_k_m", 15, DType::kQ4_K, true}, {QuantMix::kQ6_K, "q6_k", 18, DType::kQ6_K, true},
};

enum class Category { kTokenEmbd, kOutput, kAttnQ, kAttnK, kAttnV, kAttnQkv, kAttnKvB, kAttnOutput,
                      kFfnUp, kFfnGate, kFfnDown, kOther };

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// llama.cpp's tensor_get_category (substring tests, in its order).
Category category_of(const std::string& n) {
  if (n == "output.weight") return Category::kOutput;
  if (n == "token_embd.weight" || n == "per_layer_token_embd.weight") return Category::kTokenEmbd;
  if (contains(n, "attn_qkv.weight")) return Category::kAttnQkv;
  if (contains(n, "attn_kv_b.weight")) return Category::kAttnKvB;
  if (contains(n, "attn_v.weight")) return Category::kAttnV;
  if (contains(n, "attn_k.weight")) return Category::kAttnK;
  if (contains(n, "attn_q.weight")) return Category::kAttnQ;
  if (contains(n, "attn_output.weight")) return Category::kAttnOutput;
  if (contains(n, "ffn_up")) return Category::kFfnUp;
  if (contains(n, "ffn_gate")) return Category::kFfnGate;
  if (contains(n, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

bool is_attn_v_like(Category c) { return c == Category::kAttnV || c == Category::kAttnQkv || c == Category::kAttnKvB; }

bool convertible(const PlanTensor& t) {
  if (t.ne.size() < 2) return false;
  const std::string& n = t.name;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  if (contains(n, "_norm.weight") || contains(n, "ffn_gate_inp.weight")) return false;
  return true;
}

bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

int64_t block_of(DType t) { return dtype_traits(t).block_size; }

int layer_of(const std::string& name) {
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
  return layer;
}

// The row-length fallback (tensor_type_fallback).
DType fallback(DType t, int64_t ncols) {
  if (ncols % block_of(t) == 0) return t;
  DType f = DType::kF16;
  switch (t) {
    case DType::kQ4_K: f = DType::kQ5_0; break;
    case DType::kQ5_K: f = DType::kQ5_0; break;  // llama.cpp: Q5_1
    case DType::kQ6_K: f = DType::kQ8_0; break;
    default: f = DType::kF16; break;
  }
  return ncols % block_of(f) == 0 ? f : DType::kF16;
}

}  // namespace

const QuantMixInfo* find_quant_mix(const std::string& name) {
  if (name == "q4_k_s") return &kMixes[5];
  for (const QuantMixInfo& m : kMixes)
    if (name == m.name) return &m;
  return nullptr;
}

const QuantMixInfo& quant_mix_info(QuantMix mix) {
  for (const QuantMixInfo& m : kMixes)
    if (m.mix == mix) return m;
  return kMixes[0];
}

std::string quant_mix_names() { return "f32|f16|bf16|q8_0|q4_0|q4_k|q6_k|q4_k_m"; }

std::vector<PlannedType> plan_tensor_types(const QuantMixInfo& mix, const std::vector<PlanTensor>& tensors,
                                           const PlanModel& model) {
  bool tied = true;
  int64_t n_attention_wv = 0;
  for (const PlanTensor& t : tensors) {
    const Category c = category_of(t.name);
    if (c == Category::kOutput) tied = false;
    if (is_attn_v_like(c)) ++n_attention_wv;
  }
  const int64_t n_layer = model.n_layers;
  const bool moe8 = model.n_experts == 8;
  const bool k_m = mix.mix == QuantMix::kQ4_K_M, k_s = mix.mix == QuantMix::kQ4_K_S;
  int64_t i_attention_wv = 0, i_ffn_down = 0;

  std::vector<PlannedType> out;
  out.reserve(tensors.size());
  for (const PlanTensor& t : tensors) {
    if (!convertible(t)) {
      out.push_back({DType::kF32, DType::kF32, false});
      continue;
    }
    DType type = mix.default_type;
    if (!mix.quantized) {
      out.push_back({type, type, true});
      continue;
    }
    const Category c = category_of(t.name);
    const int64_t ncols = t.ne[0];
    if (c == Category::kOutput || (tied && c == Category::kTokenEmbd)) {
      if (ncols % block_of(type) != 0) type = DType::kQ8_0;
      else if (type != DType::kQ8_0) type = DType::kQ6_K;
    } else if (c == Category::kTokenEmbd) {
      // no rule for these mixes
    } else if (is_attn_v_like(c)) {
      if (k_m && use_more_bits(i_attention_wv, n_attention_wv)) type = DType::kQ6_K;
      else if (k_s && i_attention_wv < 4) type = DType::kQ5_K;
      if (model.llama_70b && type == DType::kQ4_K) type = DType::kQ5_K;
      if (moe8) type = DType::kQ8_0;
      ++i_attention_wv;
    } else if (c == Category::kAttnK) {
      if (moe8) type = DType::kQ8_0;
    } else if (c == Category::kFfnDown) {
      int64_t i_layer = i_ffn_down;
      if (model.n_experts > 1) {
        const int l = layer_of(t.name);
        if (l >= 0) i_layer = l;
      }
      if (k_m && use_more_bits(i_layer, n_layer)) type = DType::kQ6_K;
      else if (k_s && i_layer < n_layer / 8) type = DType::kQ5_K;
      ++i_ffn_down;
    } else if (c == Category::kAttnOutput) {
      if (moe8 && (k_m || k_s)) type = DType::kQ5_K;
    }
    out.push_back({fallback(type, ncols), type, true});
  }
  return out;
}

std::vector<size_t> llama_cpp_tensor_order(const std::vector<std::string>& names) {
  std::vector<size_t> idx(names.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::vector<int> layer(names.size());
  for (size_t i = 0; i < names.size(); ++i) layer[i] = layer_of(names[i]);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    if (layer[a] != layer[b]) return layer[a] < layer[b];
    return names[a] < names[b];
  });
  return idx;
}

}  // namespace moeinfer
