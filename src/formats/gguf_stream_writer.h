// A GGUF v3 writer that streams tensor data to disk (gguf.md). Unlike GgufWriter (which holds every
// tensor in memory), the caller declares every tensor's name, type and shape first; the writer
// computes each tensor's offset from those sizes, writes the header, and then takes the data of
// the tensors in declaration order, in as many pieces as the caller likes:
//
//   GgufStreamWriter w(path);
//   w.add_string("general.architecture", "llama"); ...
//   w.add_tensor_info("token_embd.weight", DType::kQ8_0, {dim, n_vocab});  ...
//   w.write_header();
//   for each tensor: w.write_data(bytes, n) ... (exactly its size in total)
//   w.finish();
//
// Layout: header | tensor infos | zero padding to `alignment` | tensor 0 | padding | tensor 1 ...
// | padding (each tensor's offset, relative to the data section, a multiple of the alignment; the
// file ends padded too, as ggml's gguf writer does).
// The file is written as `path.part` and renamed to `path` by finish(); a writer destroyed before
// finish() removes the partial file, so a failed run never leaves a truncated model behind.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "formats/gguf_value.h"
#include "tensor/dtype.h"

namespace moeinfer {

class GgufStreamWriter {
 public:
  // Nothing is created until write_header(). alignment: a power of two (general.alignment is
  // recorded when it is not the default 32).
  explicit GgufStreamWriter(std::string path, uint32_t alignment = 32);
  ~GgufStreamWriter();
  GgufStreamWriter(const GgufStreamWriter&) = delete;
  GgufStreamWriter& operator=(const GgufStreamWriter&) = delete;

  // Metadata, in file order. A key added twice replaces the earlier value in place.
  void add(const std::string& key, GgufValue value);
  void add_uint32(const std::string& key, uint32_t v);
  void add_int32(const std::string& key, int32_t v);
  void add_float32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string(const std::string& key, const std::string& v);
  void add_strings(const std::string& key, const std::vector<std::string>& v);
  void add_float32s(const std::string& key, const std::vector<float>& v);
  void add_int32s(const std::string& key, const std::vector<int32_t>& v);
  bool has(const std::string& key) const;

  // Declares the next tensor; ne in ggml order (ne[0] innermost, 1..4 dims). Throws Error when
  // ne[0] is not a multiple of the type's block size or the size overflows.
  void add_tensor_info(const std::string& name, DType type, const std::vector<int64_t>& ne);
  size_t n_tensors() const { return tensors_.size(); }
  uint64_t tensor_bytes(size_t i) const { return tensors_[i].nbytes; }
  // Total bytes of the file once finished (header, padding and data).
  uint64_t file_bytes() const;

  // Creates the (partial) file now, so that an unwritable path fails before any work; optional.
  void open();
  // Writes header, tensor infos and padding (opening the file first if needed). Throws Error on
  // I/O failure.
  void write_header();
  // Appends bytes of the current tensor; a tensor's bytes may arrive in several calls but never
  // past its size (Error). Padding after a tensor is written automatically.
  void write_data(const void* data, uint64_t n);
  // Checks that every tensor received exactly its bytes, flushes, closes and renames into place.
  void finish();

  const std::string& path() const { return path_; }

 private:
  struct Info {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes = 0;
    uint64_t offset = 0;  // relative to the data section
  };
  std::vector<uint8_t> header_bytes() const;
  void put(const void* p, uint64_t n);
  void pad(uint64_t n);
  void advance_finished_tensors();

  std::string path_, part_path_;
  uint32_t alignment_;
  std::vector<GgufKV> kv_;
  std::vector<Info> tensors_;
  FILE* f_ = nullptr;
  bool opened_ = false, header_written_ = false, finished_ = false;
  size_t cur_ = 0;           // tensor receiving data
  uint64_t cur_written_ = 0; // bytes of tensors_[cur_] written so far
};

}  // namespace moeinfer
