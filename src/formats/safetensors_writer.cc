#include "formats/safetensors_writer.h"

#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace moeinfer {

void SafetensorsWriter::add(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                            const void* data, uint64_t nbytes) {
  Entry e{name, dtype, shape, {}};
  e.data.resize(nbytes);
  if (nbytes) std::memcpy(e.data.data(), data, nbytes);
  entries_.push_back(std::move(e));
}

void SafetensorsWriter::add_f32(const std::string& name, const std::vector<int64_t>& shape,
                                const std::vector<float>& v) {
  add(name, "F32", shape, v.data(), v.size() * sizeof(float));
}

std::string SafetensorsWriter::header() const {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata_.empty()) h["__metadata__"] = metadata_;
  uint64_t off = 0;
  for (const Entry& e : entries_) {
    h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {off, off + e.data.size()}}};
    off += e.data.size();
  }
  std::string s = h.dump();
  while ((s.size() + 8) % 8 != 0) s += ' ';  // pad so the data section starts 8-aligned
  return s;
}

std::vector<uint8_t> SafetensorsWriter::serialize() const {
  const std::string h = header();
  std::vector<uint8_t> out(8 + h.size());
  const uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, h.data(), h.size());
  for (const Entry& e : entries_) {
    const size_t old = out.size();
    out.resize(old + e.data.size());
    if (!e.data.empty()) std::memcpy(out.data() + old, e.data.data(), e.data.size());
  }
  return out;
}

void SafetensorsWriter::write(const std::string& path) const {
  const std::vector<uint8_t> bytes = serialize();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Error(path, "", "cannot create file");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) throw Error(path, "", "write failed");
}

}  // namespace moeinfer
