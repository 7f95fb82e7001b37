// Ctrl-C (SIGINT) during `run` and `generate`: the timings of what was generated go to stderr and
// the exit status is 130. A model file truncated while `generate` reads it: one line, exit 1, no
// signal, with and without an expert cache. Prompts from a file and from standard input (`run -f`, `run -p -`).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace moeinfer::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts the CLI, calls act(pid) once it has run for a moment, returns (status, stderr).
template <typename Act>
std::pair<int, std::string> run_then(std::vector<std::string> args, const Act& act) {
  const std::string dir = temp_dir(), err = dir + "/err";
  // ASan's own SIGBUS report would replace moeinfer's handler
  const pid_t pid = spawn_cli(args, err, "handle_sigbus=0");
  // wait for the model to load (its first stderr line), then a little generation
  for (int i = 0; i < 200 && slurp(err).find("moeinfer") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  act(pid);
  int st = 0;
  for (int i = 0; i < 600 && waitpid(pid, &st, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (waitpid(pid, &st, WNOHANG) == 0 && !WIFEXITED(st) && !WIFSIGNALED(st)) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
  }
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(err)};
}

std::pair<int, std::string> interrupt(std::vector<std::string> args) {
  return run_then(std::move(args), [](pid_t pid) { kill(pid, SIGINT); });
}

TEST(CliInterrupt, CtrlCPrintsTimingsAndExits130) {
  auto [run_status, run_err] = interrupt({"run", "-n", "200000", "--ctx", "300000", "--seed", "1"});
  EXPECT_EQ(run_status, 130) << run_err;
  EXPECT_NE(run_err.find("generation:"), std::string::npos) << run_err;
  auto [gen_status, gen_err] =
      interrupt({"generate", "-m", shipped_model(), "--text", "hi", "-n", "200000", "--ctx", "300000"});
  EXPECT_EQ(gen_status, 130) << gen_err;
  EXPECT_NE(gen_err.find("tokens generated in"), std::string::npos) << gen_err;
}

TEST(CliInterrupt, ModelFileTruncatedWhileGeneratingEndsWithOneLine) {
  const std::string dir = temp_dir(), path = dir + "/model.gguf";
  std::filesystem::copy_file(shipped_model(), path);
  auto [status, err] = run_then({"generate", "-m", path, "--text", "hi", "-n", "200000", "--ctx", "300000", "--repack", "off"},
                                [&](pid_t) { ASSERT_EQ(truncate(path.c_str(), 4096), 0); });
  EXPECT_EQ(status, 1) << err;
  EXPECT_NE(err.find("moeinfer: " + path + ": the file changed or became unreadable while in use\n"), std::string::npos)
      << err;
  std::filesystem::remove_all(dir);
}

// The same with the routed experts in an expert cache: expert reads (pread) meet the end of the
// file, or the pinned weights' mapping does; either way one line and exit 1.
TEST(CliInterrupt, ModelFileTruncatedUnderTheExpertCacheEndsWithOneLine) {
  const std::string dir = temp_dir(), path = dir + "/model.gguf";
  std::filesystem::copy_file(data_path("gguf/tiny-deepseek-v3.gguf"), path);
  auto [status, err] = run_then({"generate", "-m", path, "--tokens", "1 2 3", "-n", "200000", "--ctx", "300000",
                                 "--expert-slots", "1"},
                                [&](pid_t) { ASSERT_EQ(truncate(path.c_str(), 4096), 0); });
  EXPECT_EQ(status, 1) << err;
  const bool mapped = err.find("moeinfer: " + path + ": the file changed or became unreadable while in use\n") != std::string::npos;
  const bool read = err.find("ends at byte") != std::string::npos && err.find(path) != std::string::npos;
  EXPECT_TRUE(mapped || read) << err;
  std::filesystem::remove_all(dir);
}

TEST(CliInterrupt, PromptFromAFileAndFromStandardInput) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/p.txt") << "Lily went to the park";
  CliResult ref = run_cli({"run", "-p", "Lily went to the park", "-n", "12", "--temp", "0"});
  ASSERT_EQ(ref.status, 0) << ref.err;
  CliResult f = run_cli({"run", "-f", dir + "/p.txt", "-n", "12", "--temp", "0"});
  EXPECT_EQ(f.status, 0) << f.err;
  EXPECT_EQ(f.out, ref.out);
  CliResult s = run_cli({"run", "-p", "-", "-n", "12", "--temp", "0"}, "Lily went to the park");
  EXPECT_EQ(s.status, 0) << s.err;
  EXPECT_EQ(s.out, ref.out);
  // a positional model path
  CliResult pos = run_cli({"run", shipped_model(), "-p", "Lily went to the park", "-n", "12", "--temp", "0"});
  EXPECT_EQ(pos.status, 0) << pos.err;
  EXPECT_EQ(pos.out, ref.out);
  CliResult missing = run_cli({"run", "-f", dir + "/nope.txt"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("nope.txt"), std::string::npos);
}

}  // namespace
}  // namespace moeinfer::test
