// One registry row per architecture: its names in GGUF (`general.architecture`) and in Hugging
// Face config.json (`architectures`, `model_type`), and the functions that map its metadata to
// ModelConfig and its tensor names to ModelWeights. Adding an architecture = one row + one file.
#pragma once
#include <string>

#include "formats/gguf_reader.h"
#include "formats/json_config.h"
#include "formats/tensor_set.h"
#include "model/config.h"
#include "model/weights.h"

namespace moeinfer {

// Which naming scheme the tensors of a file follow.
enum class WeightNaming { kGguf, kHf };

// What a binder loads besides the main model.
struct BindOptions {
  bool require_usable = true;  // reject tensor types without kernels
  bool load_mtp = false;       // also bind the multi-token-prediction layers
};

struct ArchSpec {
  const char* name;                     // engine name (ModelConfig::arch)
  const char* gguf_name;                // general.architecture, or nullptr
  const char* hf_architecture;          // config.json architectures[0], or nullptr
  const char* hf_model_type;            // config.json model_type, or nullptr
  void (*read_gguf)(const GgufFile& g, ModelConfig* cfg);
  void (*read_hf)(const JsonConfig& j, ModelConfig* cfg);
  void (*bind)(const TensorSet& t, WeightNaming naming, const ModelConfig& cfg, const BindOptions& o,
               ModelWeights* w);
};

const ArchSpec* find_arch_gguf(const std::string& general_architecture);
// By architectures[0], else by model_type; nullptr when neither is known.
const ArchSpec* find_arch_hf(const std::string& architecture, const std::string& model_type);
std::string supported_gguf_archs();
std::string supported_hf_archs();

// Helpers for architecture files. Looks up `name`, checks its shape (ggml order, ne[0] first)
// and, when require_usable, that the engine has kernels for its type; throws
// Error(path, "tensor 'name'", ...) otherwise.
TensorView bind_tensor(const TensorSet& t, const std::string& name, std::initializer_list<int64_t> ne,
                       bool require_usable);
const TensorView* find_tensor_checked(const TensorSet& t, const std::string& name,
                                      std::initializer_list<int64_t> ne, bool require_usable);
// A Linear weight `name` (ending in ".weight"): like bind_tensor, and when it is F8_E4M3 also
// binds its `<name>_scale_inv` grid [ceil(out/128), ceil(in/128)] (block size from cfg.fp8),
// copying it into w->owned_scales.
TensorView bind_linear(const TensorSet& t, const std::string& name, std::initializer_list<int64_t> ne,
                       bool require_usable, const ModelConfig& cfg, ModelWeights* w);

}  // namespace moeinfer
