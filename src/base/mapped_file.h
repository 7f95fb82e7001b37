// A read-only memory mapping of a whole file. Model files are never written: PROT_READ, MAP_PRIVATE.
// If the file shrinks while mapped (truncated or rewritten by someone else), reading a lost page
// raises SIGBUS: a handler installed with the first mapping ends the process with one line,
//   moeinfer: FILE: the file changed or became unreadable while in use
// and exit status 1, instead of a death by signal.
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
  int slot_ = -1;  // in the SIGBUS handler's table
};

}  // namespace moeinfer
