// GGUF reader (versions 2 and 3), as specified by ggml's docs/gguf.md:
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv | n_kv × (string key, u32 type, value)
//   | n_tensors × (string name, u32 n_dims, n_dims × u64 ne, u32 type, u64 offset)
//   | padding to general.alignment (default 32) | tensor data (offsets relative to its start).
// Strings are u64 length + UTF-8 bytes; everything is little-endian. The file is untrusted: every
// count, length, dimension, offset and size is checked against the file size with overflow-safe
// arithmetic before use, and every failure is an Error naming the file and the field.
// The file is mapped read-only; TensorViews point into the mapping.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "formats/gguf_value.h"
#include "formats/tensor_set.h"
#include "tensor/tensor.h"

namespace moeinfer {

class GgufFile : public TensorSet {
 public:
  // Opens, maps and validates the whole header and every tensor's data range.
  static std::unique_ptr<GgufFile> open(const std::string& path);

  const std::string& path() const override { return file_->path(); }
  bool locate(const uint8_t* p, uint64_t n, FileLocation* out) const override {
    if (p < file_->data() || p + n > file_->data() + file_->size()) return false;
    *out = FileLocation{file_->path(), static_cast<uint64_t>(p - file_->data())};
    return true;
  }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return file_->size(); }

  const std::vector<GgufKV>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;

  // Typed access with clear errors ("<file>: <key>: expected an unsigned integer, got string").
  bool has(const std::string& key) const { return find(key) != nullptr; }
  uint64_t get_uint(const std::string& key) const;  // required
  uint64_t get_uint(const std::string& key, uint64_t fallback) const;
  double get_float(const std::string& key) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  // A required array whose elements are of `elem` type (ints/floats convert within their kind).
  const GgufValue& get_array(const std::string& key, GgufType elem) const;

  const std::vector<TensorView>& tensors() const override { return tensors_; }
  const TensorView* find_tensor(const std::string& name) const override;

 private:
  GgufFile() = default;
  void parse();

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKV> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace moeinfer
