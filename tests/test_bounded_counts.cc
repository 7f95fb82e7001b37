// Counts in a file's metadata are checked against what the file holds before anything is sized by
// them, and decompression is bounded: each of these small files ends in exit 1 with one line
// naming the file and the field, quickly and without allocating gigabytes.
#include <gtest/gtest.h>

#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace moeinfer::test {
namespace {

namespace fs = std::filesystem;

void expect_clear_error(const std::vector<std::string>& args, const std::string& file, const std::string& field) {
  const auto t0 = std::chrono::steady_clock::now();
  CliResult r = run_cli(args);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(field), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_LT(s, 10.0);
}

// A GGUF of one metadata key holding an array: `elem` type id, `count` elements, each `elem_bytes`
// of zeros in the file (a nested array element: its own type u32 + count u64 of zero).
void write_array_gguf(const std::string& path, uint32_t elem, uint64_t count, size_t elem_bytes) {
  std::ofstream f(path, std::ios::binary);
  auto put = [&](const auto& v) { f.write(reinterpret_cast<const char*>(&v), sizeof v); };
  f.write("GGUF", 4);
  put(uint32_t{3});
  put(uint64_t{0});  // tensors
  put(uint64_t{1});  // key/values
  const std::string key = "general.bomb";
  put(uint64_t{key.size()});
  f.write(key.data(), static_cast<std::streamsize>(key.size()));
  put(uint32_t{9});  // array
  put(elem);
  put(count);
  const std::vector<char> zeros(1 << 20, 0);
  for (uint64_t left = count * elem_bytes; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
    f.write(zeros.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
}

// Metadata arrays cost at most 64 MiB + 4 bytes per file byte in memory: a 24 MB byte array
// (8 bytes each in memory) and 2 M empty nested arrays (24 MB in the file, ~200 bytes each in
// memory) are refused instead of taking 200 MB and 400 MB.
TEST(BoundedCounts, MetadataArraysCostBoundedMemory) {
  const TempDir td;
  const std::string bytes = td.path + "/bytes.gguf", nested = td.path + "/nested.gguf";
  write_array_gguf(bytes, 0, 24u << 20, 1);
  write_array_gguf(nested, 9, 2u << 20, 12);
  expect_clear_error({"info", "-m", bytes}, bytes, "general.bomb");
  expect_clear_error({"info", "-m", nested}, nested, "general.bomb");
  // A byte array of 1 MB is fine (it is no model's metadata, but not harmful).
  const std::string small = td.path + "/small.gguf";
  write_array_gguf(small, 0, 1u << 20, 1);
  const CliResult r = run_cli({"info", "-m", small});
  EXPECT_EQ(r.err.find("MiB in memory"), std::string::npos) << r.err;
}

TEST(BoundedCounts, GgufBlockCountBeyondItsTensors) {
  const std::string dir = temp_dir();
  for (uint32_t n : {2000000u, 4294967295u}) {
    const std::string path = dir + "/blocks.gguf";
    copy_gguf_with(shipped_model(), path, {}, {{"llama.block_count", n}});
    expect_clear_error({"generate", "-m", path, "--tokens", "1 2", "-n", "1"}, path, "llama.block_count");
  }
  fs::remove_all(dir);
}

TEST(BoundedCounts, ConfigJsonLayersBeyondItsTensors) {
  const std::string dir = temp_dir() + "/model";
  fs::copy(data_path("tiny-llama3"), dir, fs::copy_options::recursive);
  fs::remove_all(dir + "/golden");
  std::ifstream in(dir + "/config.json");
  std::string cfg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t at = cfg.find("\"num_hidden_layers\"");
  ASSERT_NE(at, std::string::npos);
  const size_t colon = cfg.find(':', at), end = cfg.find_first_of(",}", colon);
  cfg = cfg.substr(0, colon + 1) + " 2000000" + cfg.substr(end);
  std::ofstream(dir + "/config.json") << cfg;
  expect_clear_error({"generate", "-m", dir, "--tokens", "1 2", "-n", "1"}, "config.json", "num_hidden_layers");
  fs::remove_all(fs::path(dir).parent_path());
}

TEST(BoundedCounts, GzipBombTokenizerIsRefused) {
  const std::string dir = temp_dir() + "/model";
  fs::copy(data_path("tiny-llama3"), dir, fs::copy_options::recursive);
  fs::remove_all(dir + "/golden");
  // 300 MiB of spaces, about 300 KB compressed
  gzFile gz = gzopen((dir + "/tokenizer.json.gz").c_str(), "wb9");
  ASSERT_NE(gz, nullptr);
  const std::string chunk(1 << 20, ' ');
  for (int i = 0; i < 300; ++i) ASSERT_EQ(gzwrite(gz, chunk.data(), static_cast<unsigned>(chunk.size())), static_cast<int>(chunk.size()));
  gzclose(gz);
  expect_clear_error({"tokenize", "--tokenizer", dir, "--text", "hi"}, "tokenizer.json.gz", "decompressed size exceeds");
  fs::remove_all(fs::path(dir).parent_path());
}

}  // namespace
}  // namespace moeinfer::test
