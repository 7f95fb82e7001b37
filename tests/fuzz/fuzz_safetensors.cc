// safetensors: one file's header and tensor table; the same bytes as a shards index
// (model.safetensors.index.json) of a directory.
#include "formats/safetensors.h"
#include "fuzz_util.h"

#include <sys/stat.h>

using namespace moeinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = fuzz::write_input(data, size, "model.safetensors");
  fuzz::errors_only([&] {
    auto s = SafetensorsSet::open_file(file);
    uint64_t bytes = 0;
    for (const TensorView& t : s->tensors()) bytes += t.nbytes;
    (void)bytes;
  });
  const std::string dir = fuzz::work_dir() + "/index";
  ::mkdir(dir.c_str(), 0755);
  fuzz::write_input(data, size, "index/model.safetensors.index.json");
  fuzz::errors_only([&] { (void)SafetensorsSet::open_dir(dir); });
  return 0;
}
