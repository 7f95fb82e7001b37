#include "formats/gguf_reader.h"

#include <algorithm>
#include <cstring>

#include "base/checked_math.h"
#include "base/error.h"
#include "tensor/dtype.h"

namespace moeinfer {

namespace {

constexpr int kMaxArrayDepth = 4;  // nested arrays deeper than this are rejected
constexpr uint32_t kMaxDims = 4;   // GGML_MAX_DIMS

// Bounds-checked little-endian reader over the mapped bytes.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& path) : data_(data), size_(size), path_(path) {}

  uint64_t offset() const { return off_; }
  uint64_t remaining() const { return size_ - off_; }

  template <typename T>
  T read(const std::string& field) {
    if (remaining() < sizeof(T))
      throw Error(path_, field,
                  "expected " + std::to_string(sizeof(T)) + " bytes at offset " + std::to_string(off_) +
                      ", but the file ends at " + std::to_string(size_) + " (truncated file)");
    T v;
    std::memcpy(&v, data_ + off_, sizeof(T));
    off_ += sizeof(T);
    return v;
  }

  // Metadata held in memory is bounded by what the file spends on it: at most 64 MiB plus 4 bytes
  // for every byte of metadata read (strings, and integer arrays of 2 bytes or more, stay under
  // that; a byte array costs 8 per element and a nested array ~200 per 12 bytes in the file, so a
  // small file cannot make the reader allocate gigabytes). `ahead` is what the values being sized
  // will consume from the file.
  void charge(uint64_t bytes, uint64_t ahead, const std::string& field) {
    constexpr uint64_t kSlack = uint64_t{64} << 20;
    memory_ += bytes;
    if (memory_ > kSlack + 4 * (off_ + ahead))
      throw Error(path_, field,
                  "the metadata would take " + std::to_string(memory_ >> 20) + " MiB in memory for " +
                      std::to_string((off_ + ahead) >> 20) + " MiB of the file (more than 64 MiB + 4x): arrays this "
                      "large are not model metadata");
  }

  std::string read_string(const std::string& field) {
    uint64_t n = read<uint64_t>(field + " (string length)");
    if (n > remaining())
      throw Error(path_, field,
                  "string length " + std::to_string(n) + " at offset " + std::to_string(off_ - 8) +
                      " runs past the end of the file (" + std::to_string(remaining()) + " bytes left)");
    std::string s(reinterpret_cast<const char*>(data_ + off_), n);
    off_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t off_ = 0;
  uint64_t memory_ = 0;  // bytes of parsed metadata held (charge)
  const std::string& path_;
};

// Smallest encoded size of one value of type t (used to bound array counts before allocating).
uint64_t min_value_size(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: return 1;
    case GgufType::kUint16: case GgufType::kInt16: return 2;
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: return 4;
    case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: case GgufType::kString: return 8;
    case GgufType::kArray: return 12;  // u32 type + u64 count
  }
  return 1;
}

bool known_type(uint32_t t) { return t <= 12; }

// A key or tensor name from the file as shown in an error: control bytes are escaped as \xNN so
// that the message stays on one line (the CLI prints exactly one line per error).
std::string shown(const std::string& name) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char ch : name) {
    if (ch < 0x20 || ch == 0x7f) {
      s += "\\x";
      s += kHex[ch >> 4];
      s += kHex[ch & 15];
    } else {
      s += static_cast<char>(ch);
    }
  }
  return s;
}

void read_value(Cursor& c, GgufType type, GgufValue* v, const std::string& field, const std::string& path,
                int depth) {
  v->type = type;
  switch (type) {
    case GgufType::kUint8: v->u = c.read<uint8_t>(field); break;
    case GgufType::kInt8: v->i = c.read<int8_t>(field); break;
    case GgufType::kUint16: v->u = c.read<uint16_t>(field); break;
    case GgufType::kInt16: v->i = c.read<int16_t>(field); break;
    case GgufType::kUint32: v->u = c.read<uint32_t>(field); break;
    case GgufType::kInt32: v->i = c.read<int32_t>(field); break;
    case GgufType::kUint64: v->u = c.read<uint64_t>(field); break;
    case GgufType::kInt64: v->i = c.read<int64_t>(field); break;
    case GgufType::kFloat32: v->f = c.read<float>(field); break;
    case GgufType::kFloat64: v->f = c.read<double>(field); break;
    case GgufType::kBool: {
      uint8_t b = c.read<uint8_t>(field);
      if (b > 1) throw Error(path, field, "expected a bool (0 or 1), got " + std::to_string(b));
      v->u = b;
      break;
    }
    case GgufType::kString: v->str = c.read_string(field); break;
    case GgufType::kArray: {
      if (depth >= kMaxArrayDepth)
        throw Error(path, field, "arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels");
      uint32_t et = c.read<uint32_t>(field + " (array type)");
      if (!known_type(et)) throw Error(path, field, "unknown array element type " + std::to_string(et));
      uint64_t n = c.read<uint64_t>(field + " (array length)");
      uint64_t need;
      if (!checked_mul(n, min_value_size(static_cast<GgufType>(et)), &need) || need > c.remaining())
        throw Error(path, field,
                    "array length " + std::to_string(n) + " does not fit in the " + std::to_string(c.remaining()) +
                        " bytes left in the file");
      v->elem_type = static_cast<GgufType>(et);
      GgufValue probe;
      probe.type = v->elem_type;
      if (v->elem_type == GgufType::kString) {
        c.charge(n * sizeof(std::string), need, field);
        v->strs.reserve(n);
        for (uint64_t k = 0; k < n; ++k) {
          v->strs.push_back(c.read_string(field));
          if (v->strs.back().size() > 15) c.charge(v->strs.back().size() + 1, 0, field);  // beyond the SSO buffer
        }
      } else if (v->elem_type == GgufType::kArray) {
        c.charge(n * sizeof(GgufValue), need, field);
        v->items.resize(n);
        for (uint64_t k = 0; k < n; ++k) read_value(c, v->elem_type, &v->items[k], field, path, depth + 1);
      } else if (probe.is_float()) {
        c.charge(n * sizeof(double), need, field);
        v->floats.resize(n);
        for (uint64_t k = 0; k < n; ++k) {
          read_value(c, v->elem_type, &probe, field, path, depth + 1);
          v->floats[k] = probe.f;
        }
      } else {
        c.charge(n * sizeof(int64_t), need, field);
        v->ints.resize(n);
        bool is_signed = v->elem_type == GgufType::kInt8 || v->elem_type == GgufType::kInt16 ||
                         v->elem_type == GgufType::kInt32 || v->elem_type == GgufType::kInt64;
        for (uint64_t k = 0; k < n; ++k) {
          read_value(c, v->elem_type, &probe, field, path, depth + 1);
          v->ints[k] = is_signed ? probe.i : static_cast<int64_t>(probe.u);
        }
      }
      break;
    }
  }
}

std::string describe(const GgufValue& v) {
  if (v.type == GgufType::kArray) return std::string("array of ") + gguf_type_name(v.elem_type);
  return gguf_type_name(v.type);
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "?";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kUint16: case GgufType::kInt16:
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kUint64: case GgufType::kInt64:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->file_ = std::make_unique<MappedFile>(path);
  g->parse();
  return g;
}

void GgufFile::parse() {
  const std::string& p = file_->path();
  Cursor c(file_->data(), file_->size(), p);
  if (file_->size() < 4 || std::memcmp(file_->data(), "GGUF", 4) != 0)
    throw Error(p, "magic", "expected \"GGUF\" at offset 0 (not a GGUF file)");
  c.read<uint32_t>("magic");
  version_ = c.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    std::string extra = (version_ & 0xffff) == 0 && version_ != 0 ? " (a big-endian file?)" : "";
    throw Error(p, "version", "expected 2 or 3, got " + std::to_string(version_) + extra);
  }
  uint64_t n_tensors = c.read<uint64_t>("tensor_count");
  uint64_t n_kv = c.read<uint64_t>("metadata_kv_count");
  // Each metadata pair needs at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at
  // least 8 + 4 + 4 + 8 bytes (a name, n_dims, type, offset); check before allocating anything.
  uint64_t need;
  if (!checked_mul(n_kv, 13, &need) || need > c.remaining())
    throw Error(p, "metadata_kv_count",
                std::to_string(n_kv) + " pairs cannot fit in a file of " + std::to_string(file_->size()) + " bytes");
  if (!checked_mul(n_tensors, 24, &need) || need > c.remaining())
    throw Error(p, "tensor_count",
                std::to_string(n_tensors) + " tensors cannot fit in a file of " + std::to_string(file_->size()) +
                    " bytes");

  kv_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string field = "metadata[" + std::to_string(k) + "]";
    GgufKV kv;
    kv.key = c.read_string(field + ".key");
    const std::string key = shown(kv.key);
    uint32_t t = c.read<uint32_t>(key + " (type)");
    if (!known_type(t)) throw Error(p, key, "unknown metadata value type " + std::to_string(t));
    read_value(c, static_cast<GgufType>(t), &kv.value, key, p, 0);
    if (!kv_index_.emplace(kv.key, kv_.size()).second) throw Error(p, key, "duplicate metadata key");
    kv_.push_back(std::move(kv));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (a->type != GgufType::kUint32)
      throw Error(p, "general.alignment", std::string("expected uint32, got ") + describe(*a));
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      throw Error(p, "general.alignment", "expected a power of two, got " + std::to_string(a->u));
    alignment_ = a->u;
  }

  struct Info {
    uint64_t offset, nbytes;
  };
  std::vector<Info> infos;
  infos.reserve(n_tensors);
  tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    std::string field = "tensor[" + std::to_string(k) + "]";
    TensorView tv;
    tv.name = c.read_string(field + ".name");
    field = "tensor '" + shown(tv.name) + "'";
    uint32_t n_dims = c.read<uint32_t>(field + " (n_dims)");
    if (n_dims == 0 || n_dims > kMaxDims)
      throw Error(p, field, "expected 1 to 4 dimensions, got " + std::to_string(n_dims));
    tv.n_dims = static_cast<int>(n_dims);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = c.read<uint64_t>(field + " (dimension " + std::to_string(d) + ")");
      if (ne == 0 || ne > static_cast<uint64_t>(INT64_MAX))
        throw Error(p, field, "dimension " + std::to_string(d) + " is " + std::to_string(ne) + ", expected 1 to 2^63-1");
      if (!checked_mul(numel, ne, &numel) || numel > static_cast<uint64_t>(INT64_MAX))
        throw Error(p, field, "the product of the dimensions overflows a 64-bit element count");
      tv.ne[d] = static_cast<int64_t>(ne);
    }
    uint32_t type = c.read<uint32_t>(field + " (type)");
    const DTypeTraits* tr = dtype_traits(type);
    if (tr == nullptr || type >= 1000)
      throw Error(p, field, "unknown tensor type " + std::to_string(type) + " (not a ggml type this engine knows)");
    tv.type = static_cast<DType>(type);
    uint64_t row_bytes, nbytes;
    if (tv.ne[0] % tr->block_size != 0)
      throw Error(p, field,
                  "row length " + std::to_string(tv.ne[0]) + " is not a multiple of the " + tr->name +
                      " block size " + std::to_string(tr->block_size));
    if (!dtype_row_bytes(tv.type, static_cast<uint64_t>(tv.ne[0]), &row_bytes))
      throw Error(p, field, "byte size overflows 64 bits");
    if (!checked_mul(row_bytes, numel / static_cast<uint64_t>(tv.ne[0]), &nbytes))
      throw Error(p, field, "byte size overflows 64 bits");
    tv.nbytes = nbytes;
    uint64_t offset = c.read<uint64_t>(field + " (offset)");
    if (offset % alignment_ != 0)
      throw Error(p, field,
                  "data offset " + std::to_string(offset) + " is not a multiple of the alignment " +
                      std::to_string(alignment_));
    if (!tensor_index_.emplace(tv.name, tensors_.size()).second) throw Error(p, field, "duplicate tensor name");
    infos.push_back({offset, nbytes});
    tensors_.push_back(std::move(tv));
  }

  uint64_t header_end = c.offset();
  if (!checked_align_up(header_end, alignment_, &data_offset_))
    throw Error(p, "data offset", "overflows 64 bits");
  if (n_tensors == 0) return;  // a vocab-only file may end right after its metadata
  if (data_offset_ > file_->size())
    throw Error(p, "tensor data",
                "expected data to start at offset " + std::to_string(data_offset_) + ", but the file has " +
                    std::to_string(file_->size()) + " bytes (truncated file)");
  const uint64_t data_size = file_->size() - data_offset_;
  for (size_t k = 0; k < tensors_.size(); ++k) {
    uint64_t end;
    if (!checked_add(infos[k].offset, infos[k].nbytes, &end) || end > data_size)
      throw Error(p, "tensor '" + shown(tensors_[k].name) + "'",
                  "data [" + std::to_string(infos[k].offset) + ", +" + std::to_string(infos[k].nbytes) +
                      ") runs past the end of the data section (" + std::to_string(data_size) +
                      " bytes; truncated file?)");
    tensors_[k].data = file_->data() + data_offset_ + infos[k].offset;
  }
  // Tensor data ranges must not overlap.
  std::vector<size_t> order(tensors_.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return infos[a].offset < infos[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const Info& prev = infos[order[k - 1]];
    if (prev.offset + prev.nbytes > infos[order[k]].offset)
      throw Error(p, "tensor '" + shown(tensors_[order[k]].name) + "'",
                  "data overlaps tensor '" + shown(tensors_[order[k - 1]].name) + "'");
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].value;
}

const TensorView* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GgufFile::get_uint(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path(), key, "required key is missing");
  if (v->is_integer()) {
    bool is_signed = v->type == GgufType::kInt8 || v->type == GgufType::kInt16 || v->type == GgufType::kInt32 ||
                     v->type == GgufType::kInt64;
    if (!is_signed) return v->u;
    if (v->i >= 0) return static_cast<uint64_t>(v->i);
    throw Error(path(), key, "expected a non-negative integer, got " + std::to_string(v->i));
  }
  throw Error(path(), key, std::string("expected an unsigned integer, got ") + describe(*v));
}

uint64_t GgufFile::get_uint(const std::string& key, uint64_t fallback) const {
  return has(key) ? get_uint(key) : fallback;
}

double GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path(), key, "required key is missing");
  if (v->is_float()) return v->f;
  throw Error(path(), key, std::string("expected a float, got ") + describe(*v));
}

double GgufFile::get_float(const std::string& key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}

bool GgufFile::get_bool(const std::string& key, bool fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  if (v->type != GgufType::kBool) throw Error(path(), key, std::string("expected a bool, got ") + describe(*v));
  return v->u != 0;
}

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path(), key, "required key is missing");
  if (v->type != GgufType::kString) throw Error(path(), key, std::string("expected a string, got ") + describe(*v));
  return v->str;
}

std::string GgufFile::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

const GgufValue& GgufFile::get_array(const std::string& key, GgufType elem) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path(), key, "required key is missing");
  bool ok = v->type == GgufType::kArray;
  if (ok) {
    GgufValue probe;
    probe.type = v->elem_type;
    if (elem == GgufType::kString) ok = v->elem_type == GgufType::kString;
    else if (elem == GgufType::kFloat32 || elem == GgufType::kFloat64) ok = probe.is_float();
    else ok = probe.is_integer();
  }
  if (!ok) throw Error(path(), key, std::string("expected an array of ") + gguf_type_name(elem) + ", got " + describe(*v));
  return *v;
}

}  // namespace moeinfer
