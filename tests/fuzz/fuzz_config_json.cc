// config.json of a Hugging Face directory to a model config (the directory holds no weights, so a
// config that passes ends at the safetensors lookup, with an Error).
#include "fuzz_util.h"
#include "model/model.h"

#include <sys/stat.h>

using namespace moeinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = fuzz::work_dir() + "/hf";
  ::mkdir(dir.c_str(), 0755);
  fuzz::write_input(data, size, "hf/config.json");
  fuzz::errors_only([&] { (void)Model::load(dir); });
  return 0;
}
