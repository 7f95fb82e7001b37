// safetensors reader (huggingface/safetensors "Format"): a file is
//   u64 N (little-endian) | N bytes of UTF-8 JSON header | data section
// where the header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
// (offsets relative to the data section) plus an optional "__metadata__" string map.
// Sharded checkpoints list tensor -> shard file in model.safetensors.index.json ("weight_map").
// Every file is untrusted: header length, JSON, dtype, shape overflow, offsets within the data
// section, end - begin == numel × dtype size, no overlap and no duplicate names are all checked.
// Shapes become ggml order (ne[0] = last HF dimension): HF [out, in] is ne = {in, out}.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "formats/tensor_set.h"

namespace moeinfer {

class SafetensorsSet : public TensorSet {
 public:
  // One .safetensors file.
  static std::unique_ptr<SafetensorsSet> open_file(const std::string& path);
  // A Hugging Face directory: model.safetensors.index.json when present, else model.safetensors,
  // else every *.safetensors file in it.
  static std::unique_ptr<SafetensorsSet> open_dir(const std::string& dir);

  const std::string& path() const override { return path_; }
  const std::vector<TensorView>& tensors() const override { return tensors_; }
  const TensorView* find_tensor(const std::string& name) const override;
  bool locate(const uint8_t* p, uint64_t n, FileLocation* out) const override;
  // The __metadata__ of every shard, merged.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The shard file a tensor lives in (for error messages).
  const std::string& file_of(const std::string& name) const;

 private:
  SafetensorsSet() = default;
  void add_file(const std::string& file, const std::vector<std::string>* expected);

  std::string path_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::vector<TensorView> tensors_;
  std::vector<size_t> file_index_;  // per tensor, index into files_
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace moeinfer
