#include "formats/gguf_writer.h"

#include <cstdio>
#include <cstring>

#include "base/error.h"

namespace moeinfer {

namespace {

void put_bytes(std::vector<uint8_t>* out, const void* p, size_t n) {
  const size_t old = out->size();
  out->resize(old + n);
  if (n) std::memcpy(out->data() + old, p, n);
}

template <typename T>
void put(std::vector<uint8_t>* out, T v) {
  put_bytes(out, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>* out, const std::string& s) {
  put<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

void put_scalar(std::vector<uint8_t>* out, GgufType t, uint64_t u, int64_t i, double f) {
  switch (t) {
    case GgufType::kUint8: put<uint8_t>(out, static_cast<uint8_t>(u)); break;
    case GgufType::kInt8: put<int8_t>(out, static_cast<int8_t>(i)); break;
    case GgufType::kUint16: put<uint16_t>(out, static_cast<uint16_t>(u)); break;
    case GgufType::kInt16: put<int16_t>(out, static_cast<int16_t>(i)); break;
    case GgufType::kUint32: put<uint32_t>(out, static_cast<uint32_t>(u)); break;
    case GgufType::kInt32: put<int32_t>(out, static_cast<int32_t>(i)); break;
    case GgufType::kUint64: put<uint64_t>(out, u); break;
    case GgufType::kInt64: put<int64_t>(out, i); break;
    case GgufType::kFloat32: put<float>(out, static_cast<float>(f)); break;
    case GgufType::kFloat64: put<double>(out, f); break;
    case GgufType::kBool: put<uint8_t>(out, u ? 1 : 0); break;
    default: break;
  }
}

void put_value(std::vector<uint8_t>* out, const GgufValue& v) {
  if (v.type == GgufType::kString) {
    put_string(out, v.str);
  } else if (v.type == GgufType::kArray) {
    put<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
    put<uint64_t>(out, v.array_size());
    for (const auto& s : v.strs) put_string(out, s);
    for (const auto& item : v.items) put_value(out, item);
    for (double f : v.floats) put_scalar(out, v.elem_type, 0, 0, f);
    for (int64_t i : v.ints) put_scalar(out, v.elem_type, static_cast<uint64_t>(i), i, 0);
  } else {
    put_scalar(out, v.type, v.u, v.i, v.f);
  }
}

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
  put<uint32_t>(&out, 3);
  put<uint64_t>(&out, tensors_.size());
  put<uint64_t>(&out, kv_.size());
  for (const GgufKV& kv : kv_) {
    put_string(&out, kv.key);
    put<uint32_t>(&out, static_cast<uint32_t>(kv.value.type));
    put_value(&out, kv.value);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(&out, t.name);
    put<uint32_t>(&out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put<uint64_t>(&out, static_cast<uint64_t>(d));
    put<uint32_t>(&out, static_cast<uint32_t>(t.type));
    put<uint64_t>(&out, offset);
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
