// Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.cc): every input is untrusted, and a
// moeinfer::Error (or the server's ApiError) is the expected outcome of a bad one. Any other
// exception escapes to libFuzzer, which reports it, as it reports sanitizer findings, allocations
// over -rss_limit_mb / -malloc_limit_mb and inputs slower than -timeout.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/error.h"

namespace moeinfer::fuzz {

// A directory of this process's own under /tmp, made once (removed at exit).
inline const std::string& work_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/moeinfer_fuzz_XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (!d) std::abort();
    return std::string(d);
  }();
  return dir;
}

// Writes the input to work_dir()/name and returns the path.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = work_dir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// Runs fn; moeinfer::Error (bad input, reported clearly) is fine.
template <typename F>
void errors_only(const F& fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

}  // namespace moeinfer::fuzz
