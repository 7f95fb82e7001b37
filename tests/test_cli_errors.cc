// The CLI's error behaviour (DESIGN.md sections 3 and 7), through the built binary: exit status 1 for
// an error, 2 for a usage error, 0 for --help; every error prints exactly one line on stderr of the
// form "moeinfer: ...", nothing on stdout, and the process is never killed by a signal.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace moeinfer {
namespace {

using test::CliResult;
using test::run_cli;

std::string joined(const std::vector<std::string>& args) {
  std::string s = "moeinfer";
  for (const std::string& a : args) s += " '" + a + "'";
  return s;
}

// Runs the CLI and checks the error contract: `status`, not signaled, empty stdout, and exactly one
// stderr line starting with `prefix` (which itself starts with "moeinfer: "). Returns the result.
CliResult expect_error(const std::vector<std::string>& args, int status, const std::string& prefix = "moeinfer: ") {
  SCOPED_TRACE(joined(args));
  CliResult r = run_cli(args);
  EXPECT_FALSE(r.signaled) << "killed by signal " << r.status - 128 << "\n" << r.err;
  EXPECT_EQ(r.status, status) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << r.err;
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "expected a line starting with '" << prefix << "', got: " << r.err;
  return r;
}

// A fresh temp directory, removed with everything in it when the test ends.
struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A path that does not exist, inside a temp directory that does.
std::string missing_path(const TempDir& td) { return td.path + "/nonexistent.gguf"; }

// Missing model file: status 1, one line naming the path, on every subcommand that opens a model.
TEST(CliErrors, MissingFile) {
  const TempDir td;
  const std::string path = missing_path(td);
  expect_error({"info", "-m", path}, 1, "moeinfer: " + path + ": ");
  expect_error({"logits", "-m", path, "--tokens", "1 2"}, 1, "moeinfer: " + path + ": ");
  expect_error({"generate", "-m", path, "--tokens", "1", "-n", "1"}, 1, "moeinfer: " + path + ": ");
  expect_error({"run", "-m", path, "-n", "1"}, 1, "moeinfer: " + path + ": ");
  expect_error({"tokenize", "--tokenizer", path, "--text", "hi"}, 1, "moeinfer: " + path + ": ");
  expect_error({"bench", "-m", path}, 1, "moeinfer: " + path + ": ");
  // The literal path from the acceptance checks.
  expect_error({"info", "-m", "/nonexistent.gguf"}, 1, "moeinfer: /nonexistent.gguf: ");
}

// A directory without config.json is neither a GGUF file nor a Hugging Face model directory.
TEST(CliErrors, DirectoryInsteadOfFile) {
  const TempDir td;
  const std::string dir = td.path;
  expect_error({"info", "-m", dir}, 1, "moeinfer: " + dir + ": ");
  expect_error({"logits", "-m", dir, "--tokens", "1"}, 1, "moeinfer: " + dir + ": ");
  expect_error({"tokenize", "--tokenizer", dir + "/", "--text", "hi"}, 1, "moeinfer: ");
}

// An empty file and a JSON file are not GGUF files: status 1 naming the file and the magic.
TEST(CliErrors, NotAGgufFile) {
  const TempDir td;
  const std::string dir = td.path;
  const std::string empty = dir + "/empty.gguf", json = dir + "/info.json";
  std::ofstream(empty).close();
  ASSERT_EQ(run_cli({"info", "-m", test::shipped_model(), "-o", json}).status, 0);  // a JSON file
  expect_error({"info", "-m", empty}, 1, "moeinfer: " + empty + ": magic: ");
  expect_error({"info", "-m", json}, 1, "moeinfer: " + json + ": magic: ");
}

// Unknown flags: status 2 naming the flag.
TEST(CliErrors, UnknownFlag) {
  expect_error({"logits", "--bogus"}, 2, "moeinfer: --bogus: ");
  expect_error({"info", "-m", test::shipped_model(), "--bogus"}, 2, "moeinfer: --bogus: ");
  expect_error({"run", "-x"}, 2, "moeinfer: -x: ");
  // A positional argument where none is taken (one bare argument is the model path; a second is not).
  expect_error({"info", test::shipped_model(), "stray"}, 2, "moeinfer: stray: ");
  expect_error({"make-model", "stray"}, 2, "moeinfer: stray: ");
  // A boolean flag given a value.
  expect_error({"logits", "-m", test::shipped_model(), "--mtp=1", "--tokens", "1"}, 2, "moeinfer: --mtp: ");
}

// Unknown subcommands: status 2 naming the command.
TEST(CliErrors, UnknownSubcommand) {
  expect_error({"frobnicate"}, 2, "moeinfer: frobnicate: ");
  expect_error({"-m"}, 2, "moeinfer: -m: ");
  expect_error({"Info"}, 2, "moeinfer: Info: ");  // commands are case-sensitive
}

// No arguments at all: status 2 (the whole usage text goes to stderr, nothing to stdout).
TEST(CliErrors, NoArguments) {
  const CliResult r = run_cli({});
  EXPECT_FALSE(r.signaled);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("usage: moeinfer"), std::string::npos) << r.err;
}

// An option that needs a value given as the last argument: status 2 naming the option.
TEST(CliErrors, MissingOptionValue) {
  expect_error({"logits", "-m"}, 2, "moeinfer: --model: ");
  expect_error({"logits", "-m", test::shipped_model(), "--tokens"}, 2, "moeinfer: --tokens: ");
  expect_error({"run", "-n"}, 2, "moeinfer: --n-predict: ");
  expect_error({"info", "-m", test::shipped_model(), "-o"}, 2, "moeinfer: --output: ");
}

// Required options left out: status 2.
TEST(CliErrors, MissingRequiredOption) {
  expect_error({"info"}, 2, "moeinfer: --model: ");
  expect_error({"logits", "--tokens", "1"}, 2, "moeinfer: --model: ");
  expect_error({"logits", "-m", test::shipped_model()}, 2, "moeinfer: --tokens: ");
  expect_error({"generate", "-m", test::shipped_model(), "--tokens", "1"}, 2, "moeinfer: -n: ");
  expect_error({"tokenize", "-m", test::shipped_model()}, 2, "moeinfer: --text: ");
  // Mutually exclusive options together.
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "1", "--text", "hi"}, 2, "moeinfer: --text: ");
}

// Malformed or out-of-range numbers: status 2 naming the option.
TEST(CliErrors, BadNumber) {
  expect_error({"run", "-n", "abc"}, 2, "moeinfer: --n-predict: ");
  expect_error({"run", "-n", "12abc"}, 2, "moeinfer: --n-predict: ");
  expect_error({"run", "-n", ""}, 2, "moeinfer: --n-predict: ");
  expect_error({"run", "-n", "99999999999999999999999"}, 2, "moeinfer: --n-predict: ");
  expect_error({"run", "--temp", "abc"}, 2, "moeinfer: --temp: ");
  expect_error({"run", "--temp", "nan"}, 2, "moeinfer: --temp: ");
  expect_error({"generate", "-m", test::shipped_model(), "--tokens", "1", "-n", "-1"}, 2,
               "moeinfer: --n-predict: ");
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "1", "-t", "0"}, 2, "moeinfer: --threads: ");
  // Token lists that are not non-negative integers.
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "1 abc"}, 2, "moeinfer: --tokens: ");
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "-3"}, 2, "moeinfer: --tokens: ");
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "4294967296"}, 2, "moeinfer: --tokens: ");
}

// --help on every subcommand: status 0, the usage text on stdout, nothing on stderr. Also with
// other (even invalid) options around it, and the top-level --help.
TEST(CliErrors, HelpOnEverySubcommand) {
  for (const std::string cmd : {"run", "generate", "logits", "tokenize", "info", "bench"}) {
    for (const std::string flag : {"--help", "-h"}) {
      SCOPED_TRACE(cmd + " " + flag);
      const CliResult r = run_cli({cmd, flag});
      EXPECT_FALSE(r.signaled);
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(r.out.rfind("usage: moeinfer " + cmd + " ", 0), 0u) << r.out;
      EXPECT_NE(r.out.find("--help"), std::string::npos) << r.out;
      EXPECT_EQ(r.err, "");
    }
  }
  const TempDir td;
  const CliResult r = run_cli({"logits", "-m", missing_path(td), "--help"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("usage: moeinfer logits ", 0), 0u);
  const CliResult top = run_cli({"--help"});
  EXPECT_EQ(top.status, 0);
  EXPECT_EQ(top.out.rfind("usage: moeinfer ", 0), 0u);
  EXPECT_EQ(top.err, "");
}

// A token id outside the shipped model's vocabulary: status 1 (an input error, not a crash).
TEST(CliErrors, TokenIdOutOfRange) {
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "1 99999"}, 1);
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "2147483647"}, 1);
  expect_error({"generate", "-m", test::shipped_model(), "--tokens", "1 99999", "-n", "1"}, 1);
}

// An unknown --isa: status 2 naming the option, before any work is done.
TEST(CliErrors, BogusIsa) {
  expect_error({"logits", "-m", test::shipped_model(), "--tokens", "1", "--isa", "bogus"}, 2, "moeinfer: --isa: ");
  expect_error({"run", "--isa", "bogus", "-n", "1"}, 2, "moeinfer: --isa: ");
  expect_error({"generate", "-m", test::shipped_model(), "--tokens", "1", "-n", "1", "--isa=bogus"}, 2,
               "moeinfer: --isa: ");
}

// An output file that cannot be created: status 1 naming it, and no JSON on stdout.
TEST(CliErrors, UnwritableOutput) {
  const TempDir td;
  const std::string out = missing_path(td) + "/out.json";  // its directory does not exist
  expect_error({"info", "-m", test::shipped_model(), "-o", out}, 1, "moeinfer: " + out + ": ");
}

}  // namespace
}  // namespace moeinfer
