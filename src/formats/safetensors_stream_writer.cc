#include "formats/safetensors_stream_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/checked_math.h"
#include "base/error.h"

namespace moeinfer {

uint64_t safetensors_dtype_size(const std::string& d) {
  if (d == "F32" || d == "I32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16") return 2;
  if (d == "F8_E4M3" || d == "F8_E5M2" || d == "I8" || d == "U8") return 1;
  if (d == "F64" || d == "I64") return 8;
  return 0;
}

SafetensorsStreamWriter::SafetensorsStreamWriter(std::string path)
    : path_(std::move(path)), part_path_(path_ + ".part") {}

SafetensorsStreamWriter::~SafetensorsStreamWriter() {
  if (f_) std::fclose(f_);
  if (header_written_ && !finished_) ::unlink(part_path_.c_str());
}

void SafetensorsStreamWriter::add_tensor_info(const std::string& name, const std::string& dtype,
                                              const std::vector<int64_t>& shape, uint64_t nbytes) {
  const std::string field = "tensor '" + name + "'";
  if (header_written_) throw Error(path_, field, "declared after the header was written");
  uint64_t n = safetensors_dtype_size(dtype);
  if (n == 0) throw Error(path_, field, "unknown dtype " + dtype);
  for (int64_t d : shape)
    if (d < 0 || !checked_mul(n, static_cast<uint64_t>(d), &n)) throw Error(path_, field, "invalid shape");
  if (n != nbytes) throw Error(path_, field, "byte size does not match shape and dtype");
  uint64_t end = 0;
  if (!checked_add(total_, nbytes, &end)) throw Error(path_, field, "file size overflows");
  tensors_.push_back({name, dtype, shape, total_, end});
  total_ = end;
}

void SafetensorsStreamWriter::put(const void* p, uint64_t n) {
  if (n && std::fwrite(p, 1, n, f_) != n) throw Error(path_, "", std::string("write failed: ") + std::strerror(errno));
}

void SafetensorsStreamWriter::write_header() {
  if (header_written_) throw Error(path_, "", "header written twice");
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata_.empty()) h["__metadata__"] = metadata_;
  for (const Info& t : tensors_)
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  std::string s = h.dump();
  while (s.size() % 8 != 0) s += ' ';  // the data section starts 8-aligned
  f_ = std::fopen(part_path_.c_str(), "wb");
  if (!f_) throw Error(path_, "", std::string("cannot create the output file: ") + std::strerror(errno));
  header_written_ = true;
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 22);
  const uint64_t n = s.size();
  put(&n, 8);
  put(s.data(), s.size());
}

void SafetensorsStreamWriter::write_data(const void* data, uint64_t n) {
  if (!header_written_ || finished_) throw Error(path_, "", "tensor data written outside write_header()..finish()");
  if (n > total_ - written_) throw Error(path_, "", "more tensor data than the declared tensors hold");
  put(data, n);
  written_ += n;
}

void SafetensorsStreamWriter::finish() {
  if (!header_written_) write_header();
  if (written_ != total_)
    throw Error(path_, "", "got " + std::to_string(written_) + " of " + std::to_string(total_) + " data bytes");
  FILE* f = f_;
  f_ = nullptr;
  const bool ok = std::fflush(f) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !ok)
    throw Error(path_, "", std::string("write failed: ") + std::strerror(errno ? errno : err));
  if (std::rename(part_path_.c_str(), path_.c_str()) != 0)
    throw Error(path_, "", std::string("cannot move the finished file into place: ") + std::strerror(errno));
  finished_ = true;
}

}  // namespace moeinfer
