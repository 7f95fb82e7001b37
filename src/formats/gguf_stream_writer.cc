#include "formats/gguf_stream_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/checked_math.h"
#include "base/error.h"
#include "formats/gguf_encode.h"

namespace moeinfer {

namespace {

using gguf_encode::put_bytes;
using gguf_encode::put_pod;
using gguf_encode::put_string;
using gguf_encode::put_value;

std::string errno_text() { return std::strerror(errno); }

}  // namespace

GgufStreamWriter::GgufStreamWriter(std::string path, uint32_t alignment)
    : path_(std::move(path)), part_path_(path_ + ".part"), alignment_(alignment) {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
    throw Error(path_, "general.alignment", "expected a power of two");
  if (alignment_ != 32) add_uint32("general.alignment", alignment_);
}

GgufStreamWriter::~GgufStreamWriter() {
  if (f_) std::fclose(f_);
  if (opened_ && !finished_) ::unlink(part_path_.c_str());
}

void GgufStreamWriter::add(const std::string& key, GgufValue value) {
  if (header_written_) throw Error(path_, key, "metadata added after the header was written");
  for (GgufKV& kv : kv_)
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  kv_.push_back({key, std::move(value)});
}

bool GgufStreamWriter::has(const std::string& key) const {
  for (const GgufKV& kv : kv_)
    if (kv.key == key) return true;
  return false;
}

void GgufStreamWriter::add_uint32(const std::string& key, uint32_t v) {
  GgufValue g;
  g.type = GgufType::kUint32;
  g.u = v;
  add(key, std::move(g));
}

void GgufStreamWriter::add_int32(const std::string& key, int32_t v) {
  GgufValue g;
  g.type = GgufType::kInt32;
  g.i = v;
  add(key, std::move(g));
}

void GgufStreamWriter::add_float32(const std::string& key, float v) {
  GgufValue g;
  g.type = GgufType::kFloat32;
  g.f = v;
  add(key, std::move(g));
}

void GgufStreamWriter::add_bool(const std::string& key, bool v) {
  GgufValue g;
  g.type = GgufType::kBool;
  g.u = v;
  add(key, std::move(g));
}

void GgufStreamWriter::add_string(const std::string& key, const std::string& v) {
  GgufValue g;
  g.type = GgufType::kString;
  g.str = v;
  add(key, std::move(g));
}

void GgufStreamWriter::add_strings(const std::string& key, const std::vector<std::string>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kString;
  g.strs = v;
  add(key, std::move(g));
}

void GgufStreamWriter::add_float32s(const std::string& key, const std::vector<float>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kFloat32;
  g.floats.assign(v.begin(), v.end());
  add(key, std::move(g));
}

void GgufStreamWriter::add_int32s(const std::string& key, const std::vector<int32_t>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kInt32;
  g.ints.assign(v.begin(), v.end());
  add(key, std::move(g));
}

void GgufStreamWriter::add_tensor_info(const std::string& name, DType type, const std::vector<int64_t>& ne) {
  const std::string field = "tensor '" + name + "'";
  if (header_written_) throw Error(path_, field, "declared after the header was written");
  if (ne.empty() || ne.size() > 4) throw Error(path_, field, "expected 1 to 4 dimensions");
  uint64_t n = 1;
  for (int64_t d : ne)
    if (d <= 0 || !checked_mul(n, static_cast<uint64_t>(d), &n)) throw Error(path_, field, "invalid shape");
  uint64_t row = 0, bytes = 0;
  if (!dtype_row_bytes(type, static_cast<uint64_t>(ne[0]), &row))
    throw Error(path_, field,
                "row length " + std::to_string(ne[0]) + " is not a multiple of the " + dtype_name(type) +
                    " block size " + std::to_string(dtype_traits(type).block_size));
  if (!checked_mul(row, n / static_cast<uint64_t>(ne[0]), &bytes)) throw Error(path_, field, "size overflows");
  Info info{name, type, ne, bytes, 0};
  if (!tensors_.empty()) {
    const Info& prev = tensors_.back();
    uint64_t end = 0;
    if (!checked_add(prev.offset, prev.nbytes, &end) || !checked_align_up(end, alignment_, &info.offset))
      throw Error(path_, field, "file size overflows");
  }
  tensors_.push_back(std::move(info));
}

std::vector<uint8_t> GgufStreamWriter::header_bytes() const {
  std::vector<uint8_t> out;
  put_bytes(&out, "GGUF", 4);
  put_pod<uint32_t>(&out, 3);
  put_pod<uint64_t>(&out, tensors_.size());
  put_pod<uint64_t>(&out, kv_.size());
  for (const GgufKV& kv : kv_) {
    put_string(&out, kv.key);
    put_pod<uint32_t>(&out, static_cast<uint32_t>(kv.value.type));
    put_value(&out, kv.value);
  }
  for (const Info& t : tensors_) {
    put_string(&out, t.name);
    put_pod<uint32_t>(&out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put_pod<uint64_t>(&out, static_cast<uint64_t>(d));
    put_pod<uint32_t>(&out, static_cast<uint32_t>(t.type));
    put_pod<uint64_t>(&out, t.offset);
  }
  while (out.size() % alignment_ != 0) out.push_back(0);
  return out;
}

uint64_t GgufStreamWriter::file_bytes() const {
  uint64_t n = header_bytes().size();
  if (!tensors_.empty()) {
    const uint64_t end = tensors_.back().offset + tensors_.back().nbytes;
    n += end + (alignment_ - end % alignment_) % alignment_;
  }
  return n;
}

void GgufStreamWriter::put(const void* p, uint64_t n) {
  if (n && std::fwrite(p, 1, n, f_) != n) throw Error(path_, "", "write failed: " + errno_text());
}

void GgufStreamWriter::pad(uint64_t n) {
  static const uint8_t zeros[64] = {};
  while (n > 0) {
    const uint64_t k = n < sizeof zeros ? n : sizeof zeros;
    put(zeros, k);
    n -= k;
  }
}

void GgufStreamWriter::open() {
  if (opened_) return;
  f_ = std::fopen(part_path_.c_str(), "wb");
  if (!f_) throw Error(path_, "", "cannot create the output file: " + errno_text());
  opened_ = true;
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 22);
}

void GgufStreamWriter::write_header() {
  if (header_written_) throw Error(path_, "", "header written twice");
  open();
  header_written_ = true;
  const std::vector<uint8_t> h = header_bytes();
  put(h.data(), h.size());
  advance_finished_tensors();
}

// Moves past tensors that are complete (zero-sized ones never are: shapes are positive), writing
// the padding between a finished tensor and the next one.
void GgufStreamWriter::advance_finished_tensors() {
  while (cur_ < tensors_.size() && cur_written_ == tensors_[cur_].nbytes) {
    const Info& t = tensors_[cur_];
    ++cur_;
    cur_written_ = 0;
    const uint64_t end = t.offset + t.nbytes;
    // ggml pads after every tensor, the last one included
    pad(cur_ < tensors_.size() ? tensors_[cur_].offset - end : (alignment_ - end % alignment_) % alignment_);
  }
}

void GgufStreamWriter::write_data(const void* data, uint64_t n) {
  if (!header_written_ || finished_) throw Error(path_, "", "tensor data written outside write_header()..finish()");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (cur_ >= tensors_.size()) throw Error(path_, "", "more tensor data than the declared tensors hold");
    const Info& t = tensors_[cur_];
    const uint64_t k = n < t.nbytes - cur_written_ ? n : t.nbytes - cur_written_;
    put(p, k);
    p += k;
    n -= k;
    cur_written_ += k;
    advance_finished_tensors();
  }
}

void GgufStreamWriter::finish() {
  if (!header_written_) write_header();
  if (cur_ < tensors_.size())
    throw Error(path_, "tensor '" + tensors_[cur_].name + "'",
                "got " + std::to_string(cur_written_) + " of " + std::to_string(tensors_[cur_].nbytes) + " bytes");
  FILE* f = f_;
  f_ = nullptr;
  const bool ok = std::fflush(f) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    errno = err;
    throw Error(path_, "", "write failed: " + errno_text());
  }
  if (std::rename(part_path_.c_str(), path_.c_str()) != 0)
    throw Error(path_, "", "cannot move the finished file into place: " + errno_text());
  finished_ = true;
}

}  // namespace moeinfer
