// GGUF: open and validate, walk every key and tensor, read the model config, bind the weights,
// build the tokenizer (encode and decode fixed text) and render the chat template.
#include "chat/chat_template.h"
#include "engine/loaded_model.h"
#include "formats/gguf_reader.h"
#include "fuzz_util.h"

using namespace moeinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input(data, size, "model.gguf");
  fuzz::errors_only([&] {
    auto g = GgufFile::open(path);
    size_t n = 0;
    for (const GgufKV& kv : g->metadata()) n += kv.key.size();
    for (const TensorView& t : g->tensors()) n += static_cast<size_t>(t.nbytes & 1);
    (void)n;
    fuzz::errors_only([&] {
      const ChatTemplate t = ChatTemplate::from_gguf(*g);
      (void)t.render(nlohmann::ordered_json::parse(R"([{"role":"user","content":"hi"}])"), true);
    });
    LoadOptions lo;
    lo.require_usable_types = false;
    lo.load_mtp = true;
    auto m = Model::load(path, lo);
    if (auto tok = load_model_tokenizer(*m)) {
      const std::vector<int32_t> ids = tok->encode("Hello world! 123 h\xc3\xa9llo <s> \xe2\x80\x94 end", true, true);
      (void)tok->decode(ids);
    }
  });
  return 0;
}
