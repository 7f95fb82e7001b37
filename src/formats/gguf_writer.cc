#include "formats/gguf_writer.h"

#include <cstdio>
#include <cstring>

#include "base/error.h"
#include "formats/gguf_encode.h"

namespace moeinfer {

namespace {

using gguf_encode::put_bytes;
using gguf_encode::put_pod;
using gguf_encode::put_string;
using gguf_encode::put_value;

void pad_to(std::vector<uint8_t>* out, uint64_t align) {
  while (out->size() % align != 0) out->push_back(0);
}

}  // namespace

void GgufWriter::set_alignment(uint32_t a) {
  alignment_ = a;
  if (a != 32) add_uint32("general.alignment", a);
}

void GgufWriter::add(const std::string& key, GgufValue value) { kv_.push_back({key, std::move(value)}); }

void GgufWriter::add_uint32(const std::string& key, uint32_t v) {
  GgufValue g;
  g.type = GgufType::kUint32;
  g.u = v;
  add(key, std::move(g));
}

void GgufWriter::add_float32(const std::string& key, float v) {
  GgufValue g;
  g.type = GgufType::kFloat32;
  g.f = v;
  add(key, std::move(g));
}

void GgufWriter::add_bool(const std::string& key, bool v) {
  GgufValue g;
  g.type = GgufType::kBool;
  g.u = v;
  add(key, std::move(g));
}

void GgufWriter::add_string(const std::string& key, const std::string& v) {
  GgufValue g;
  g.type = GgufType::kString;
  g.str = v;
  add(key, std::move(g));
}

void GgufWriter::add_strings(const std::string& key, const std::vector<std::string>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kString;
  g.strs = v;
  add(key, std::move(g));
}

void GgufWriter::add_float32s(const std::string& key, const std::vector<float>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kFloat32;
  g.floats.assign(v.begin(), v.end());
  add(key, std::move(g));
}

void GgufWriter::add_int32s(const std::string& key, const std::vector<int32_t>& v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kInt32;
  g.ints.assign(v.begin(), v.end());
  add(key, std::move(g));
}

void GgufWriter::add_tensor(const std::string& name, DType type, const std::vector<int64_t>& ne, const void* data,
                            uint64_t nbytes) {
  Tensor t{name, type, ne, {}};
  const uint8_t* p = static_cast<const uint8_t*>(data);
  t.data.assign(p, p + nbytes);
  tensors_.push_back(std::move(t));
}

std::vector<uint8_t> GgufWriter::serialize() const {
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
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(&out, t.name);
    put_pod<uint32_t>(&out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put_pod<uint64_t>(&out, static_cast<uint64_t>(d));
    put_pod<uint32_t>(&out, static_cast<uint32_t>(t.type));
    put_pod<uint64_t>(&out, offset);
    offset += t.data.size();
    offset = (offset + alignment_ - 1) / alignment_ * alignment_;
  }
  if (tensors_.empty()) return out;
  pad_to(&out, alignment_);
  for (const Tensor& t : tensors_) {
    put_bytes(&out, t.data.data(), t.data.size());
    pad_to(&out, alignment_);
  }
  return out;
}

void GgufWriter::write(const std::string& path) const {
  std::vector<uint8_t> bytes = serialize();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Error(path, "", "cannot create file");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw Error(path, "", "write failed");
}

}  // namespace moeinfer
