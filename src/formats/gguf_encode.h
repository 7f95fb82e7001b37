// Little-endian encoding of GGUF header pieces into a byte buffer, shared by the in-memory writer
// (gguf_writer.h) and the streaming writer (gguf_stream_writer.h).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "formats/gguf_value.h"

namespace moeinfer::gguf_encode {

inline void put_bytes(std::vector<uint8_t>* out, const void* p, size_t n) {
  const size_t old = out->size();
  out->resize(old + n);
  if (n) std::memcpy(out->data() + old, p, n);
}

template <typename T>
void put_pod(std::vector<uint8_t>* out, T v) {
  put_bytes(out, &v, sizeof(T));
}

// uint64 length, then the bytes.
void put_string(std::vector<uint8_t>* out, const std::string& s);

// A value's payload (its type tag is written by the caller): scalars, strings, and arrays as
// element type, count, items (nested arrays recursively).
void put_value(std::vector<uint8_t>* out, const GgufValue& v);

}  // namespace moeinfer::gguf_encode
