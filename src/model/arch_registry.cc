#include "model/arch_registry.h"

#include "base/error.h"

namespace moeinfer {

void llama_read_gguf(const GgufFile& g, ModelConfig* cfg);
void llama_read_hf(const JsonConfig& j, ModelConfig* cfg);
void llama_bind(const TensorSet& t, WeightNaming naming, const ModelConfig& cfg, bool require_usable,
                ModelWeights* w);

namespace {

constexpr ArchSpec kArchs[] = {
    {"llama", "llama", "LlamaForCausalLM", "llama", llama_read_gguf, llama_read_hf, llama_bind},
    {"mistral", nullptr, "MistralForCausalLM", "mistral", nullptr, llama_read_hf, llama_bind},
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
  if (require_usable && !dtype_traits(t->type).usable)
    throw Error(set.path(), "tensor '" + name + "'",
                std::string("type ") + dtype_name(t->type) +
                    " is recognized but not supported for computation yet (supported: f32, f16, bf16)");
  return t;
}

TensorView bind_tensor(const TensorSet& set, const std::string& name, std::initializer_list<int64_t> ne,
                       bool require_usable) {
  const TensorView* t = find_tensor_checked(set, name, ne, require_usable);
  if (!t) throw Error(set.path(), "tensor '" + name + "'", "required tensor is missing");
  return *t;
}

}  // namespace moeinfer
