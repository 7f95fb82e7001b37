#include "model/model.h"

#include <sys/stat.h>

#include "base/error.h"
#include "formats/json_config.h"
#include "model/arch_registry.h"

namespace moeinfer {

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& opts) {
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    m->load_hf_dir(opts);
  else
    m->load_gguf(opts);
  return m;
}

void Model::load_gguf(const LoadOptions& opts) {
  gguf_ = GgufFile::open(path_);
  tensors_ = gguf_.get();
  const GgufFile& g = *gguf_;
  const std::string arch = g.get_string("general.architecture");
  const ArchSpec* a = find_arch_gguf(arch);
  if (!a)
    throw Error(path_, "general.architecture",
                "unsupported architecture '" + arch + "' (supported: " + supported_gguf_archs() + ")");
  a->read_gguf(g, &config_);
  config_.validate(path_);
  a->bind(g, WeightNaming::kGguf, config_, BindOptions{opts.require_usable_types, opts.load_mtp}, &weights_);
}

void Model::load_hf_dir(const LoadOptions& opts) {
  struct stat st {};
  if (::stat((path_ + "/config.json").c_str(), &st) != 0)
    throw Error(path_, "config.json", "not found: expected a .gguf file or a Hugging Face model directory");
  const JsonConfig j = JsonConfig::load(path_ + "/config.json");
  std::string architecture;
  if (j.has("architectures")) {
    const auto& arr = j.json()["architectures"];
    if (!arr.is_array() || arr.empty() || !arr[0].is_string())
      throw Error(j.path(), "architectures", "expected a list of class names");
    architecture = arr[0].get<std::string>();
  }
  const std::string model_type = j.get_string("model_type", "");
  const ArchSpec* a = find_arch_hf(architecture, model_type);
  if (!a || !a->read_hf)
    throw Error(j.path(), "architectures",
                "unsupported architecture '" + architecture + "' / model_type '" + model_type +
                    "' (supported: " + supported_hf_archs() + ")");
  a->read_hf(j, &config_);
  config_.validate(j.path());
  safetensors_ = SafetensorsSet::open_dir(path_);
  tensors_ = safetensors_.get();
  a->bind(*safetensors_, WeightNaming::kHf, config_, BindOptions{opts.require_usable_types, opts.load_mtp}, &weights_);
}

}  // namespace moeinfer
