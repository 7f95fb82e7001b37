// One registry row per architecture: the GGUF `general.architecture` name and the functions that
// map its metadata keys and tensor names to ModelConfig and ModelWeights.
#pragma once
#include <string>

#include "formats/gguf_reader.h"
#include "model/config.h"
#include "model/weights.h"

namespace moeinfer {

struct GgufArch {
  const char* name;  // general.architecture
  void (*read_config)(const GgufFile& g, ModelConfig* cfg);
  void (*bind_weights)(const GgufFile& g, const ModelConfig& cfg, bool require_usable, ModelWeights* w);
};

// nullptr when the architecture is not supported.
const GgufArch* find_gguf_arch(const std::string& name);
// "llama, ..." for error messages.
std::string supported_gguf_archs();

// Helpers shared by architecture files.
// Looks up `name`, checks its shape (ggml order, ne[0] first) and, when require_usable, that the
// engine has kernels for its type. Throws Error(file, tensor 'name', ...) otherwise.
TensorView bind_tensor(const GgufFile& g, const std::string& name, std::initializer_list<int64_t> ne,
                       bool require_usable);
const TensorView* find_tensor_checked(const GgufFile& g, const std::string& name, std::initializer_list<int64_t> ne,
                                      bool require_usable);

}  // namespace moeinfer
