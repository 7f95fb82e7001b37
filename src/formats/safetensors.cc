#include "formats/safetensors.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/checked_math.h"
#include "base/error.h"
#include "tensor/dtype.h"

namespace moeinfer {

namespace {

constexpr uint64_t kMaxHeader = 100ull << 20;  // the format's own limit (100 MB)

bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// dtype strings of the format; only those the engine can hold are accepted.
bool parse_dtype(const std::string& s, DType* t) {
  if (s == "F32") *t = DType::kF32;
  else if (s == "F16") *t = DType::kF16;
  else if (s == "BF16") *t = DType::kBF16;
  else if (s == "F8_E4M3") *t = DType::kF8_E4M3;
  else return false;
  return true;
}

// Parses JSON, reporting duplicate keys at `dup_depth` (1 = the top-level object's keys).
nlohmann::json parse_json(const char* begin, const char* end, const std::string& file, const std::string& field,
                          int dup_depth) {
  std::vector<std::set<std::string>> seen(8);
  std::string duplicate;
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    if (ev == nlohmann::json::parse_event_t::key && depth == dup_depth && duplicate.empty()) {
      const std::string k = parsed.get<std::string>();
      if (!seen[0].insert(k).second) duplicate = k;
    }
    return true;
  };
  nlohmann::json j = nlohmann::json::parse(begin, end, cb, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(file, field, "expected valid JSON");
  if (!duplicate.empty()) throw Error(file, "tensor '" + duplicate + "'", "duplicate name in the header");
  return j;
}

}  // namespace

std::unique_ptr<SafetensorsSet> SafetensorsSet::open_file(const std::string& path) {
  std::unique_ptr<SafetensorsSet> s(new SafetensorsSet());
  s->path_ = path;
  s->add_file(path, nullptr);
  return s;
}

std::unique_ptr<SafetensorsSet> SafetensorsSet::open_dir(const std::string& dir) {
  std::unique_ptr<SafetensorsSet> s(new SafetensorsSet());
  s->path_ = dir;
  const std::string index = dir + "/model.safetensors.index.json";
  if (is_file(index)) {
    std::ifstream in(index, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    nlohmann::json j = parse_json(text.data(), text.data() + text.size(), index, "", 2);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(index, "weight_map", "expected an object mapping tensor names to shard files");
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto& [name, shard] : j["weight_map"].items()) {
      if (!shard.is_string()) throw Error(index, "weight_map." + name, "expected a shard file name");
      const std::string f = shard.get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
        throw Error(index, "weight_map." + name, "expected a file name in the same directory, got '" + f + "'");
      by_shard[f].push_back(name);
    }
    if (by_shard.empty()) throw Error(index, "weight_map", "expected at least one tensor");
    for (auto& [f, names] : by_shard) s->add_file(dir + "/" + f, &names);
    return s;
  }
  if (is_file(dir + "/model.safetensors")) {
    s->add_file(dir + "/model.safetensors", nullptr);
    return s;
  }
  std::vector<std::string> files;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0) files.push_back(n);
    }
    ::closedir(d);
  }
  if (files.empty()) throw Error(dir, "", "no *.safetensors files (and no model.safetensors.index.json) in the directory");
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) s->add_file(dir + "/" + f, nullptr);
  return s;
}

void SafetensorsSet::add_file(const std::string& file, const std::vector<std::string>* expected) {
  files_.push_back(std::make_unique<MappedFile>(file));
  const MappedFile& mf = *files_.back();
  const size_t fi = files_.size() - 1;
  if (mf.size() < 8) throw Error(file, "header length", "expected 8 bytes, the file has " + std::to_string(mf.size()));
  uint64_t n;
  std::memcpy(&n, mf.data(), 8);
  if (n > mf.size() - 8)
    throw Error(file, "header length",
                std::to_string(n) + " runs past the end of the file (" + std::to_string(mf.size()) + " bytes)");
  if (n > kMaxHeader) throw Error(file, "header length", std::to_string(n) + " exceeds the 100 MB limit");
  const char* h = reinterpret_cast<const char*>(mf.data() + 8);
  nlohmann::json j = parse_json(h, h + n, file, "header", 1);
  if (!j.is_object()) throw Error(file, "header", "expected a JSON object");
  const uint64_t data_begin = 8 + n, data_size = mf.size() - data_begin;

  struct Range {
    uint64_t begin, end;
    size_t tensor;
  };
  std::vector<Range> ranges;
  for (auto& [name, info] : j.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw Error(file, "__metadata__", "expected an object of strings");
      for (auto& [k, v] : info.items()) {
        if (!v.is_string()) throw Error(file, "__metadata__." + k, "expected a string");
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string field = "tensor '" + name + "'";
    if (!info.is_object()) throw Error(file, field, "expected an object with dtype, shape, data_offsets");
    if (!info.contains("dtype") || !info["dtype"].is_string()) throw Error(file, field, "expected a \"dtype\" string");
    const std::string ds = info["dtype"].get<std::string>();
    TensorView tv;
    tv.name = name;
    if (!parse_dtype(ds, &tv.type))
      throw Error(file, field, "dtype " + ds + " is not supported (expected F32, F16, BF16 or F8_E4M3)");
    if (!info.contains("shape") || !info["shape"].is_array()) throw Error(file, field, "expected a \"shape\" array");
    const auto& shape = info["shape"];
    if (shape.size() > 4) throw Error(file, field, "expected at most 4 dimensions, got " + std::to_string(shape.size()));
    tv.n_dims = static_cast<int>(shape.size());
    uint64_t numel = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (!shape[d].is_number_unsigned())
        throw Error(file, field, "expected non-negative integer dimensions");
      const uint64_t v = shape[d].get<uint64_t>();
      if (v > static_cast<uint64_t>(INT64_MAX) || !checked_mul(numel, v, &numel) ||
          numel > static_cast<uint64_t>(INT64_MAX))
        throw Error(file, field, "the product of the dimensions overflows a 64-bit element count");
      tv.ne[shape.size() - 1 - d] = static_cast<int64_t>(v);
    }
    if (!info.contains("data_offsets") || !info["data_offsets"].is_array() || info["data_offsets"].size() != 2 ||
        !info["data_offsets"][0].is_number_unsigned() || !info["data_offsets"][1].is_number_unsigned())
      throw Error(file, field, "expected \"data_offsets\": [begin, end] with non-negative integers");
    const uint64_t b = info["data_offsets"][0].get<uint64_t>(), e = info["data_offsets"][1].get<uint64_t>();
    if (b > e || e > data_size)
      throw Error(file, field,
                  "data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + ") are outside the data section of " +
                      std::to_string(data_size) + " bytes");
    uint64_t want;
    if (!checked_mul(numel, static_cast<uint64_t>(dtype_traits(tv.type).type_size), &want) || e - b != want)
      throw Error(file, field,
                  "data_offsets span " + std::to_string(e - b) + " bytes, but the shape and dtype need " +
                      std::to_string(want));
    tv.data = mf.data() + data_begin + b;
    tv.nbytes = want;
    if (!index_.emplace(name, tensors_.size()).second) throw Error(file, field, "duplicate tensor name across shards");
    ranges.push_back({b, e, tensors_.size()});
    tensors_.push_back(std::move(tv));
    file_index_.push_back(fi);
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t k = 1; k < ranges.size(); ++k)
    if (ranges[k].begin < ranges[k - 1].end)
      throw Error(file, "tensor '" + tensors_[ranges[k].tensor].name + "'",
                  "data overlaps tensor '" + tensors_[ranges[k - 1].tensor].name + "'");
  if (expected) {
    for (const std::string& name : *expected) {
      auto it = index_.find(name);
      if (it == index_.end() || file_index_[it->second] != fi)
        throw Error(file, "tensor '" + name + "'", "listed in model.safetensors.index.json but missing from this shard");
    }
  }
}

const TensorView* SafetensorsSet::find_tensor(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

bool SafetensorsSet::locate(const uint8_t* p, uint64_t n, FileLocation* out) const {
  for (const auto& f : files_)
    if (p >= f->data() && p + n <= f->data() + f->size()) {
      *out = FileLocation{f->path(), static_cast<uint64_t>(p - f->data())};
      return true;
    }
  return false;
}

const std::string& SafetensorsSet::file_of(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? path_ : files_[file_index_[it->second]]->path();
}

}  // namespace moeinfer
