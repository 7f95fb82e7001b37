#include "cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "base/error.h"

namespace moeinfer {

Args::Args(std::string command, std::string synopsis, std::vector<OptSpec> specs, int argc, char** argv, int first)
    : command_(std::move(command)), synopsis_(std::move(synopsis)), specs_(std::move(specs)) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    std::string value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0) {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_inline = true;
      }
    }
    const OptSpec* spec = nullptr;
    for (const OptSpec& s : specs_)
      if (a == s.name || (!s.short_name.empty() && a == s.short_name)) spec = &s;
    if (!spec && !a.empty() && a[0] != '-' && !has_inline) {
      // A bare argument is the model path (`moeinfer run MODEL.gguf`) where the command takes -m.
      bool takes_model = false;
      for (const OptSpec& s : specs_) takes_model |= s.name == "--model";
      if (takes_model && !values_.count("--model")) {
        values_["--model"] = a;
        continue;
      }
    }
    if (!spec) {
      if (a.empty() || a[0] != '-')
        throw UsageError(a, "unexpected argument; see 'moeinfer " + command_ + " --help'");
      throw UsageError(a, "unknown option; see 'moeinfer " + command_ + " --help'");
    }
    if (spec->value_name.empty()) {
      if (has_inline) throw UsageError(spec->name, "takes no value");
      values_[spec->name] = std::string(1, '1');
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= argc) throw UsageError(spec->name, "expected a value (" + spec->value_name + ")");
      value = argv[++i];
    }
    values_[spec->name] = value;
  }
}

std::string Args::help_text() const {
  std::string s = "usage: moeinfer " + command_ + " " + synopsis_ + "\n\noptions:\n";
  for (const OptSpec& o : specs_) {
    std::string left = "  " + (o.short_name.empty() ? std::string("    ") : o.short_name + ", ") + o.name;
    if (!o.value_name.empty()) left += " " + o.value_name;
    if (left.size() < 30) left.resize(30, ' ');
    else left += "  ";
    s += left + o.help + "\n";
  }
  s += "  -h, --help                  show this help\n";
  return s;
}

std::string Args::str(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

int64_t Args::integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  const char* s = it->second.c_str();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno == ERANGE)
    throw UsageError(name, "expected an integer, got '" + it->second + "'");
  if (v < min || v > max)
    throw UsageError(name, "expected a value in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                               it->second);
  return v;
}

double Args::number(const std::string& name, double fallback, double min, double max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  const char* s = it->second.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (*s == '\0' || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw UsageError(name, "expected a number, got '" + it->second + "'");
  if (v < min || v > max)
    throw UsageError(name, "expected a value in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                               it->second);
  return v;
}

std::string Args::one_of(const std::vector<std::string>& names) const {
  std::string found, all;
  for (const std::string& n : names) {
    all += (all.empty() ? "" : " or ") + n;
    if (has(n)) {
      if (!found.empty()) throw UsageError(n, "cannot be combined with " + found);
      found = n;
    }
  }
  if (found.empty()) throw UsageError(names[0], "expected " + all);
  return found;
}

std::vector<OptSpec> model_run_options() {
  return {
      {"--threads", "-t", "N", "threads (default: all cores)"},
      {"--isa", "", "ISA", "kernel level: scalar|avx2|avx512|amx (default: best; env MOEINFER_ISA)"},
      {"--ctx", "-c", "N", "KV cache capacity in tokens (default: the model's context length)"},
      {"--mla", "", "FORM", "DeepSeek attention form: absorbed (latent KV cache, default) or naive"},
      {"--repack", "", "MODE",
       "interleave quantized weights (Q8_0, Q4_0 from AVX2 up; Q4_K, Q6_K at AVX-512) for the kernels at load: auto (when they fit in memory, default), "
       "on, off (run from the mapped file)"},
      {"--mem-budget", "", "SIZE",
       "memory the engine may use, e.g. 3.5G (default: the cgroup limit or MemTotal, less a margin); a DeepSeek "
       "model larger than it keeps its routed experts in an expert cache"},
      {"--expert-slots", "", "N", "expert cache slots per MoE layer (forces the cache; default: from --mem-budget)"},
      {"--expert-policy", "", "P", "expert cache eviction: lfu (decayed frequency, default), lru, predicted"},
      {"--cache-aware-routing", "", "T",
       "lossy, off by default: under the expert cache, a chosen expert that is not resident is replaced by a resident "
       "one whose router score is within T of it"},
      {"--prefetch", "", "MODE",
       "expert cache read-ahead of the predicted next-layer experts: auto (while it pays, default), on, off (no "
       "predictor either)"},
  };
}

std::vector<int32_t> parse_token_list(const std::string& text, const std::string& option) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t' || text[i] == '\n' ||
                               text[i] == '[' || text[i] == ']'))
      ++i;
    if (i >= text.size()) break;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != ',' && text[j] != '\t' && text[j] != '\n' &&
           text[j] != ']')
      ++j;
    std::string tok = text.substr(i, j - i);
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(tok.c_str(), &end, 10);
    if (*end != '\0' || errno == ERANGE || v < 0 || v > INT32_MAX)
      throw UsageError(option, "expected non-negative integer token ids, got '" + tok + "'");
    ids.push_back(static_cast<int32_t>(v));
    i = j;
  }
  if (ids.empty()) throw UsageError(option, "expected at least one token id");
  return ids;
}

}  // namespace moeinfer
