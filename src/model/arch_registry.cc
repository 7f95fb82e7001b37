#include "model/arch_registry.h"

#include "base/error.h"

namespace moeinfer {

void llama_read_config(const GgufFile& g, ModelConfig* cfg);
void llama_bind_weights(const GgufFile& g, const ModelConfig& cfg, bool require_usable, ModelWeights* w);

namespace {
constexpr GgufArch kArchs[] = {
    {"llama", llama_read_config, llama_bind_weights},
};

std::string shape_str(const int64_t* ne, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}
}  // namespace

const GgufArch* find_gguf_arch(const std::string& name) {
  for (const GgufArch& a : kArchs)
    if (name == a.name) return &a;
  return nullptr;
}

std::string supported_gguf_archs() {
  std::string s;
  for (const GgufArch& a : kArchs) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

const TensorView* find_tensor_checked(const GgufFile& g, const std::string& name, std::initializer_list<int64_t> ne,
                                      bool require_usable) {
  const TensorView* t = g.find_tensor(name);
  if (!t) return nullptr;
  std::vector<int64_t> want(ne);
  bool ok = true;
  for (size_t d = 0; d < 4; ++d) {
    int64_t w = d < want.size() ? want[d] : 1;
    if (t->ne[d] != w) ok = false;
  }
  if (!ok)
    throw Error(g.path(), "tensor '" + name + "'",
                "expected shape " + shape_str(want.data(), static_cast<int>(want.size())) + ", got " +
                    shape_str(t->ne, t->n_dims));
  if (require_usable && !dtype_traits(t->type).usable)
    throw Error(g.path(), "tensor '" + name + "'",
                std::string("type ") + dtype_name(t->type) +
                    " is recognized but not supported for computation yet (supported: f32, f16, bf16)");
  return t;
}

TensorView bind_tensor(const GgufFile& g, const std::string& name, std::initializer_list<int64_t> ne,
                       bool require_usable) {
  const TensorView* t = find_tensor_checked(g, name, ne, require_usable);
  if (!t) throw Error(g.path(), "tensor '" + name + "'", "required tensor is missing");
  return *t;
}

}  // namespace moeinfer
