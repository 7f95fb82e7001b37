// safetensors writer: builds a file from named tensors (HF shape order, outermost first). Used by
// tests to make well-formed and malformed checkpoints, and by tools that write models.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moeinfer {

class SafetensorsWriter {
 public:
  // dtype: "F32", "F16", "BF16", "F8_E4M3", ...; data must hold numel × size bytes.
  void add(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
           const void* data, uint64_t nbytes);
  void add_f32(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& v);
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // The JSON header alone (for tests that corrupt it) and the whole file.
  std::string header() const;
  std::vector<uint8_t> serialize() const;
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace moeinfer
