// Whole-file reads that accept gzip-compressed files transparently (zlib), so tokenizer files can
// be stored compressed (tokenizer.json.gz) and test data stays small.
#pragma once
#include <cstdint>
#include <string>

namespace moeinfer {

// True when the file starts with the gzip magic bytes 1f 8b.
bool is_gzip_file(const std::string& path);

// The file's bytes, decompressed when it is gzip data (several concatenated members included).
// Throws Error(path, "", ...) when it cannot be read, the gzip data is corrupt or truncated, or the
// result would exceed max_bytes (a guard against decompression bombs).
std::string read_file_maybe_gzip(const std::string& path, uint64_t max_bytes = uint64_t{1} << 31);

}  // namespace moeinfer
