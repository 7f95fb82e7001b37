// A safetensors writer that streams tensor data to disk (huggingface/safetensors "Format"):
//   u64 N | N bytes of JSON header (padded with spaces so the data starts 8-aligned) | data
// The header holds every tensor's dtype, shape and [begin, end) data offsets, so the caller
// declares all tensors first (shapes and dtypes are known up front), then writes their bytes in
// declaration order, in any number of pieces. Written as `path.part`, renamed by finish(); a
// writer destroyed before finish() removes the partial file.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace moeinfer {

class SafetensorsStreamWriter {
 public:
  explicit SafetensorsStreamWriter(std::string path);
  ~SafetensorsStreamWriter();
  SafetensorsStreamWriter(const SafetensorsStreamWriter&) = delete;
  SafetensorsStreamWriter& operator=(const SafetensorsStreamWriter&) = delete;

  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // shape in HF order (outermost first); nbytes = numel × the dtype's element size.
  void add_tensor_info(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                       uint64_t nbytes);
  uint64_t data_bytes() const { return total_; }

  void write_header();
  void write_data(const void* data, uint64_t n);
  void finish();

  const std::string& path() const { return path_; }

 private:
  struct Info {
    std::string name, dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  void put(const void* p, uint64_t n);

  std::string path_, part_path_;
  std::map<std::string, std::string> metadata_;
  std::vector<Info> tensors_;
  uint64_t total_ = 0, written_ = 0;
  FILE* f_ = nullptr;
  bool header_written_ = false, finished_ = false;
};

// Bytes per element of a safetensors dtype name ("F32" 4, "F16"/"BF16" 2, "F8_E4M3" 1); 0 if unknown.
uint64_t safetensors_dtype_size(const std::string& dtype);

}  // namespace moeinfer
