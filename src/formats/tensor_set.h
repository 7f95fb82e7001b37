// A named collection of tensor views over read-only mapped files: one GGUF file, or the
// safetensors shards of a Hugging Face directory. Loaders bind weights through this interface.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace moeinfer {

// Where bytes of a mapped tensor lie on disk: for reading them with pread (an expert cache).
struct FileLocation {
  std::string path;
  uint64_t offset = 0;
};

class TensorSet {
 public:
  virtual ~TensorSet() = default;
  virtual const std::string& path() const = 0;  // the file or directory, for error messages
  virtual const std::vector<TensorView>& tensors() const = 0;
  virtual const TensorView* find_tensor(const std::string& name) const = 0;
  // The file and offset of [p, p + n) when it lies inside one of the mapped files.
  virtual bool locate(const uint8_t* /*p*/, uint64_t /*n*/, FileLocation* /*out*/) const { return false; }
};

}  // namespace moeinfer
