// Helpers shared by the tests: data paths, reading JSON goldens, running the CLI binary.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moeinfer::test {

inline std::string data_path(const std::string& rel) { return std::string(MOEINFER_TEST_DATA) + "/" + rel; }
inline std::string shipped_model() { return std::string(MOEINFER_MODELS_DIR) + "/stories260K.gguf"; }
inline std::string cli_binary() { return MOEINFER_BIN; }

nlohmann::json read_json(const std::string& path);

// A fresh empty directory under the system temp dir (removed by the caller if it cares).
std::string temp_dir();
// A fresh directory under /tmp, removed with everything in it at scope exit.
struct TempDir {
  const std::string path = temp_dir();
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  ~TempDir();
};

struct CliResult {
  int status = -1;      // exit status, or 128 + signal when killed by a signal
  bool signaled = false;
  std::string out, err;
};
// Runs the moeinfer binary with args (no shell), capturing stdout and stderr; stdin_text is its
// standard input (empty: /dev/null).
CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text = "");

// Starts the moeinfer binary with args in the background (stdin and stdout on /dev/null, stderr to
// err_path); under AddressSanitizer, asan_options are appended to ASAN_OPTIONS. Returns its pid.
pid_t spawn_cli(const std::vector<std::string>& args, const std::string& err_path, const std::string& asan_options = "");

// n token ids in [3, vocab), a fixed pattern that differs with seed (prompts for the engine tests).
inline std::vector<int32_t> tokens(int64_t n, int64_t vocab, int seed) {
  std::vector<int32_t> t;
  for (int64_t i = 0; i < n; ++i) t.push_back(static_cast<int32_t>((i * 37 + seed * 101 + 7) % (vocab - 3) + 3));
  return t;
}

// Writes a copy of the GGUF file src to dst, with the metadata values in `replace` (by key; keys the
// file lacks are added) and the same tensors.
void copy_gguf_with(const std::string& src, const std::string& dst, const std::vector<std::pair<std::string, std::string>>& strings,
                    const std::vector<std::pair<std::string, uint32_t>>& uint32s);

// max|a - b| over two equal-length vectors (infinity when lengths differ).
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace moeinfer::test
