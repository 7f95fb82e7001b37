// tokenizer.json: load, then encode and decode fixed strings.
#include "fuzz_util.h"
#include "tokenizer/hf_tokenizer.h"

#include <sys/stat.h>

using namespace moeinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = fuzz::work_dir() + "/tok";
  ::mkdir(dir.c_str(), 0755);
  fuzz::write_input(data, size, "tok/tokenizer.json");
  fuzz::errors_only([&] {
    auto tok = load_hf_tokenizer(dir);
    for (const char* text : {"Hello world!", " 12345 h\xc3\xa9llo\n\n\tworld", "<s>[INST] hi [/INST]", ""}) {
      const std::vector<int32_t> ids = tok->encode(text, true, true);
      (void)tok->decode(ids);
    }
  });
  return 0;
}
