// A small command-line parser with the error policy of the CLI contract: an unknown option, a
// missing value or a malformed number is a UsageError (exit status 2) naming the option.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moeinfer {

struct OptSpec {
  std::string name;        // long form, e.g. "--temp"
  std::string short_name;  // e.g. "-m", or ""
  std::string value_name;  // e.g. "T"; empty for a boolean flag
  std::string help;
};

class Args {
 public:
  // Parses argv[first..argc); throws UsageError. "--help"/"-h" sets help().
  Args(std::string command, std::string synopsis, std::vector<OptSpec> specs, int argc, char** argv, int first);

  bool help() const { return help_; }
  std::string help_text() const;

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  bool flag(const std::string& name) const { return has(name); }
  std::string str(const std::string& name, const std::string& fallback = "") const;
  int64_t integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  double number(const std::string& name, double fallback, double min, double max) const;
  // Exactly one of the given options must be present; returns its name.
  std::string one_of(const std::vector<std::string>& names) const;

 private:
  std::string command_, synopsis_;
  std::vector<OptSpec> specs_;
  std::map<std::string, std::string> values_;
  bool help_ = false;
};

// Options shared by every subcommand that runs a model.
std::vector<OptSpec> model_run_options();

// Parses "1 2 3" or "1,2,3" into ids; throws UsageError naming `option`.
std::vector<int32_t> parse_token_list(const std::string& text, const std::string& option);

}  // namespace moeinfer
