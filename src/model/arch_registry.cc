#include "model/arch_registry.h"

#include <cstring>

#include "base/error.h"
#include "tensor/fp16.h"

namespace moeinfer {

void deepseek_read_hf(const JsonConfig& j, ModelConfig* cfg);
void deepseek_bind(const TensorSet& t, WeightNaming naming, const ModelConfig& cfg, const BindOptions& o,
                   ModelWeights* w);
void deepseek_gguf_read(const GgufFile& g, ModelConfig* cfg);
void llama_read_gguf(const GgufFile& g, ModelConfig* cfg);
void llama_read_hf(const JsonConfig& j, ModelConfig* cfg);
void llama_bind(const TensorSet& t, WeightNaming naming, const ModelConfig& cfg, const BindOptions& o,
                ModelWeights* w);

namespace {

constexpr ArchSpec kArchs[] = {
    {"llama", "llama", "LlamaForCausalLM", "llama", llama_read_gguf, llama_read_hf, llama_bind},
    {"mistral", nullptr, "MistralForCausalLM", "mistral", nullptr, llama_read_hf, llama_bind},
    {"deepseek_v3", nullptr, "DeepseekV3ForCausalLM", "deepseek_v3", nullptr, deepseek_read_hf, deepseek_bind},
    {"deepseek_v2", nullptr, "DeepseekV2ForCausalLM", "deepseek_v2", nullptr, deepseek_read_hf, deepseek_bind},
    {"deepseek2", "deepseek2", nullptr, nullptr, deepseek_gguf_read, nullptr, deepseek_bind},
};

std::string shape_str(const int64_t* ne, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

const ArchSpec* find_arch_gguf(const std::string& name) {
  for (const ArchSpec& a : kArchs)
    if (a.gguf_name && name == a.gguf_name) return &a;
  return nullptr;
}

const ArchSpec* find_arch_hf(const std::string& architecture, const std::string& model_type) {
  for (const ArchSpec& a : kArchs)
    if (a.hf_architecture && architecture == a.hf_architecture) return &a;
  for (const ArchSpec& a : kArchs)
    if (a.hf_model_type && model_type == a.hf_model_type) return &a;
  return nullptr;
}

std::string supported_gguf_archs() {
  std::string s;
  for (const ArchSpec& a : kArchs)
    if (a.gguf_name) s += (s.empty() ? "" : ", ") + std::string(a.gguf_name);
  return s;
}

std::string supported_hf_archs() {
  std::string s;
  for (const ArchSpec& a : kArchs)
    if (a.hf_architecture) s += (s.empty() ? "" : ", ") + std::string(a.hf_architecture);
  return s;
}

const TensorView* find_tensor_checked(const TensorSet& set, const std::string& name,
                                      std::initializer_list<int64_t> ne, bool require_usable) {
  const TensorView* t = set.find_tensor(name);
  if (!t) return nullptr;
  std::vector<int64_t> want(ne);
  bool ok = true;
  for (size_t d = 0; d < 4; ++d) {
    int64_t w = d < want.size() ? want[d] : 1;
    if (t->ne[d] != w) ok = false;
  }
  // HF shapes are reported in HF order (outermost first), GGUF shapes in ggml order.
  if (!ok)
    throw Error(set.path(), "tensor '" + name + "'",
                "expected shape (ggml order) " + shape_str(want.data(), static_cast<int>(want.size())) + ", got " +
                    shape_str(t->ne, t->n_dims));
  if (require_usable && t->type == DType::kF8_E4M3)
    throw Error(set.path(), "tensor '" + name + "'",
                "F8_E4M3 is supported only for Linear weights that come with a weight_scale_inv grid");
  if (require_usable && !dtype_traits(t->type).usable)
    throw Error(set.path(), "tensor '" + name + "'",
                std::string("type ") + dtype_name(t->type) +
                    " is recognized but not supported for computation (supported: f32, f16, bf16, f8_e4m3, q8_0, q4_0, q5_0, q4_K, q5_K, q6_K)");
  return t;
}

TensorView bind_tensor(const TensorSet& set, const std::string& name, std::initializer_list<int64_t> ne,
                       bool require_usable) {
  const TensorView* t = find_tensor_checked(set, name, ne, require_usable);
  if (!t) throw Error(set.path(), "tensor '" + name + "'", "required tensor is missing");
  return *t;
}

}  // namespace moeinfer

namespace moeinfer {

TensorView bind_linear(const TensorSet& set, const std::string& name, std::initializer_list<int64_t> ne,
                       bool require_usable, const ModelConfig& cfg, ModelWeights* w) {
  const TensorView* found = find_tensor_checked(set, name, ne, false);
  if (!found) throw Error(set.path(), "tensor '" + name + "'", "required tensor is missing");
  TensorView t = *found;
  if (t.type != DType::kF8_E4M3) return bind_tensor(set, name, ne, require_usable);
  const std::string field = "tensor '" + name + "'";
  if (!cfg.fp8)
    throw Error(set.path(), field, "is F8_E4M3 but config.json has no fp8 quantization_config");
  const int64_t br = cfg.fp8->block_rows, bc = cfg.fp8->block_cols;
  const int64_t grid_r = (t.rows() + br - 1) / br, grid_c = (t.cols() + bc - 1) / bc;
  const std::string sname = name + "_scale_inv";
  const TensorView* s = set.find_tensor(sname);
  if (!s) throw Error(set.path(), "tensor '" + sname + "'", "required block-scale grid for an F8_E4M3 weight is missing");
  if (s->type != DType::kF32 && s->type != DType::kBF16)
    throw Error(set.path(), "tensor '" + sname + "'", std::string("expected F32, got ") + dtype_name(s->type));
  if (s->ne[0] != grid_c || s->ne[1] != grid_r || s->ne[2] != 1 || s->ne[3] != 1)
    throw Error(set.path(), "tensor '" + sname + "'",
                "expected a scale grid of [" + std::to_string(grid_r) + ", " + std::to_string(grid_c) + "] for a [" +
                    std::to_string(t.rows()) + ", " + std::to_string(t.cols()) + "] weight in " + std::to_string(br) +
                    "x" + std::to_string(bc) + " blocks");
  std::vector<float> grid(static_cast<size_t>(grid_r * grid_c));
  for (size_t i = 0; i < grid.size(); ++i) {
    if (s->type == DType::kF32) {
      std::memcpy(&grid[i], s->data + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, s->data + 2 * i, 2);
      grid[i] = bf16_to_f32(h);
    }
  }
  w->owned_scales.push_back(std::move(grid));
  t.block_scale = w->owned_scales.back().data();
  t.scale_cols = grid_c;
  t.block_rows = br;
  t.block_cols = bc;
  t.scale_row0 = 0;
  return t;
}

}  // namespace moeinfer
