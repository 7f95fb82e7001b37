// A read-only memory mapping of a whole file. Model files are never written: PROT_READ, MAP_PRIVATE.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace moeinfer {

class MappedFile {
 public:
  // Throws Error(path, "", ...) when the path is missing, a directory, or cannot be mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace moeinfer
