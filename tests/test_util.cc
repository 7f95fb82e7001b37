#include "test_util.h"

#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace moeinfer::test {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

namespace {
// Every directory temp_dir() made, removed when the test binary exits (tests that clean up
// themselves leave nothing for this to do).
std::vector<std::string>& made_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}
void remove_made_dirs() {
  std::error_code ec;
  for (const std::string& d : made_dirs()) std::filesystem::remove_all(d, ec);
}
}  // namespace

std::string temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/moeinfer_test_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  made_dirs();  // constructed before the handler is registered, so destroyed after it runs
  static const int registered = std::atexit(remove_made_dirs);
  (void)registered;
  made_dirs().push_back(buf.data());
  return std::string(buf.data());
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
// In a forked child: replaces it with the moeinfer binary running args.
[[noreturn]] void exec_cli(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string bin = cli_binary();
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(bin.c_str(), argv.data());
  _exit(127);
}

}  // namespace

CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text) {
  const std::string dir = temp_dir();
  const std::string out_path = dir + "/stdout", err_path = dir + "/stderr", in_path = dir + "/stdin";
  {
    FILE* f = std::fopen(in_path.c_str(), "wb");
    if (f) {
      std::fwrite(stdin_text.data(), 1, stdin_text.size(), f);
      std::fclose(f);
    }
  }
  pid_t pid = fork();
  if (pid == 0) {
    int i = open(in_path.c_str(), O_RDONLY);
    dup2(i, 0);
    int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    exec_cli(args);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CliResult r;
  if (WIFSIGNALED(st)) {
    r.signaled = true;
    r.status = 128 + WTERMSIG(st);
  } else {
    r.status = WEXITSTATUS(st);
  }
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  unlink(in_path.c_str());
  rmdir(dir.c_str());
  return r;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

pid_t spawn_cli(const std::vector<std::string>& args, const std::string& err_path, const std::string& asan_options) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int n = open("/dev/null", O_RDWR);
  dup2(n, 0);
  dup2(n, 1);
  dup2(e, 2);
#if defined(__SANITIZE_ADDRESS__)
  std::string asan = getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "";
  if (!asan_options.empty()) asan += (asan.empty() ? "" : ":") + asan_options;
  setenv("ASAN_OPTIONS", asan.c_str(), 1);
#else
  (void)asan_options;
#endif
  exec_cli(args);
}

void copy_gguf_with(const std::string& src, const std::string& dst, const std::vector<std::pair<std::string, std::string>>& strings,
                    const std::vector<std::pair<std::string, uint32_t>>& uint32s) {
  auto g = GgufFile::open(src);
  GgufWriter w;
  w.set_alignment(static_cast<uint32_t>(g->alignment()));
  auto replaced = [&](const std::string& k) {
    for (const auto& [key, v] : strings)
      if (key == k) return true;
    for (const auto& [key, v] : uint32s)
      if (key == k) return true;
    return false;
  };
  for (const GgufKV& kv : g->metadata())
    if (kv.key != "general.alignment" && !replaced(kv.key)) w.add(kv.key, kv.value);
  for (const auto& [k, v] : strings) w.add_string(k, v);
  for (const auto& [k, v] : uint32s) w.add_uint32(k, v);
  for (const TensorView& t : g->tensors()) {
    std::vector<int64_t> ne(t.ne, t.ne + std::max(1, t.n_dims));
    w.add_tensor(t.name, t.type, ne, t.data, t.nbytes);
  }
  w.write(dst);
}

}  // namespace moeinfer::test

namespace moeinfer::test {

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace moeinfer::test
