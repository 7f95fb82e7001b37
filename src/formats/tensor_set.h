// A named collection of tensor views over read-only mapped files: one GGUF file, or the
// safetensors shards of a Hugging Face directory. Loaders bind weights through this interface.
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace moeinfer {

class TensorSet {
 public:
  virtual ~TensorSet() = default;
  virtual const std::string& path() const = 0;  // the file or directory, for error messages
  virtual const std::vector<TensorView>& tensors() const = 0;
  virtual const TensorView* find_tensor(const std::string& name) const = 0;
};

}  // namespace moeinfer
