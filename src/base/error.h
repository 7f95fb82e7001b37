// Error policy: input errors (bad files, bad flags) are thrown as moeinfer::Error at the boundary
// where they are detected and caught once in the CLI, which prints one line
//   moeinfer: <file>: <field>: <what was expected>
// and exits 1 (2 for UsageError). Internal invariants use assert, never exceptions.
#pragma once
#include <stdexcept>
#include <string>

namespace moeinfer {

class Error : public std::runtime_error {
 public:
  // file: the path the user gave (or "" when none applies); field: the key, tensor or option name.
  Error(std::string file, std::string field, const std::string& what)
      : std::runtime_error(format(file, field, what)), file_(std::move(file)), field_(std::move(field)) {}
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }

 private:
  static std::string format(const std::string& file, const std::string& field, const std::string& what) {
    std::string s;
    if (!file.empty()) s += file + ": ";
    if (!field.empty()) s += field + ": ";
    return s + what;
  }
  std::string file_, field_;
};

// A command-line usage error (unknown flag, missing value): exit status 2.
class UsageError : public Error {
 public:
  UsageError(std::string field, const std::string& what) : Error("", std::move(field), what) {}
};

}  // namespace moeinfer
