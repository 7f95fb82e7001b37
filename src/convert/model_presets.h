// Model shapes for `moeinfer make-model`: the hyperparameters of real models (from their published
// config.json files) and scaled-down shapes with the same features, as ModelConfig values. A
// preset is data only; make_model.h writes random weights of that shape.
#pragma once
#include <string>
#include <vector>

#include "model/config.h"

namespace moeinfer {

struct ModelPreset {
  const char* arch;  // llama, mistral, deepseek_v3, deepseek_v2
  const char* name;  // e.g. "llama-3.1-8b", "tiny"
  const char* what;  // one line for --help / --list-presets
  ModelConfig (*make)();
};

const std::vector<ModelPreset>& model_presets();
// nullptr when the arch has no preset of that name.
const ModelPreset* find_model_preset(const std::string& arch, const std::string& name);
// "tiny, llama-3.2-1b, ..." for one arch.
std::string model_preset_names(const std::string& arch);

}  // namespace moeinfer
