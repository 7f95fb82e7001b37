// Encode throughput of the four real tokenizers (tokenizer.json) and one GGUF byte-level vocabulary,
// on ~1 MiB of mixed text: the 115 golden strings of tests/data/tokenizers (English, CJK, Arabic,
// code, JSON, numbers, emoji, whitespace runs, special-token text, ...) joined with newlines and
// repeated. Reports MB/s of input text (bytes_per_second) and tokens per byte. The word cache is
// warm after the first iteration, as it is in a long-running server.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/gzip_file.h"
#include "formats/gguf_reader.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/hf_tokenizer.h"

namespace moeinfer {
namespace {

const std::string kData = MOEINFER_TEST_DATA;

const std::string& mixed_text() {
  static const std::string text = [] {
    const std::string golden = read_file_maybe_gzip(kData + "/tokenizers/llama3/golden.jsonl");
    std::string one;
    size_t pos = 0;
    for (size_t nl; (nl = golden.find('\n', pos)) != std::string::npos; pos = nl + 1)
      if (nl > pos) one += nlohmann::json::parse(golden.substr(pos, nl - pos))["text"].get<std::string>() + "\n";
    std::string all;
    while (all.size() < (1u << 20)) all += one;
    return all;
  }();
  return text;
}

void run(benchmark::State& state, const Tokenizer& tok) {
  const std::string& text = mixed_text();
  size_t n_tokens = 0;
  for (auto _ : state) {
    std::vector<int32_t> ids = tok.encode(text, false, true);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.counters["text_bytes"] = static_cast<double>(text.size());
  state.counters["tokens_per_byte"] = static_cast<double>(n_tokens) / static_cast<double>(text.size());
}

void BM_EncodeJson(benchmark::State& state, const char* name) {
  std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(kData + "/tokenizers/" + name);
  run(state, *tok);
}

void BM_EncodeGguf(benchmark::State& state, const char* file) {
  // GGUF files are memory-mapped: decompress the test copy to a temp file first.
  const std::string path = "/tmp/moeinfer_bench_" + std::string(file);
  {
    const std::string bytes = read_file_maybe_gzip(kData + "/llamacpp-vocab/" + file + ".gz");
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      if (f) std::fclose(f);
      state.SkipWithError("cannot write the temp GGUF");
      return;
    }
    std::fclose(f);
  }
  std::unique_ptr<GgufFile> g = GgufFile::open(path);
  std::unique_ptr<Tokenizer> tok = make_gguf_tokenizer(*g);
  run(state, *tok);
  std::remove(path.c_str());
}

BENCHMARK_CAPTURE(BM_EncodeJson, llama2, "llama2")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EncodeJson, mistral, "mistral")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EncodeJson, llama3, "llama3")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EncodeJson, deepseek_v3, "deepseek-v3")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EncodeGguf, llama_bpe_gguf, "ggml-vocab-llama-bpe.gguf")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace moeinfer
