// GGUF v3 writer (gguf.md). Used by tests to build well-formed and malformed files, and by the
// tools that write models. Tensors are laid out in insertion order, each aligned.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/gguf_value.h"
#include "tensor/dtype.h"

namespace moeinfer {

class GgufWriter {
 public:
  void set_alignment(uint32_t a);  // also recorded as general.alignment when != 32
  void add(const std::string& key, GgufValue value);
  void add_uint32(const std::string& key, uint32_t v);
  void add_float32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string(const std::string& key, const std::string& v);
  void add_strings(const std::string& key, const std::vector<std::string>& v);
  void add_float32s(const std::string& key, const std::vector<float>& v);
  void add_int32s(const std::string& key, const std::vector<int32_t>& v);
  // ne in ggml order (ne[0] innermost); data must hold the exact byte size of the tensor.
  void add_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne, const void* data,
                  uint64_t nbytes);

  std::vector<uint8_t> serialize() const;
  void write(const std::string& path) const;  // throws Error on I/O failure

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
  };
  uint32_t alignment_ = 32;
  std::vector<GgufKV> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace moeinfer
