#include "formats/gguf_encode.h"

namespace moeinfer::gguf_encode {

namespace {

// One scalar of type t; integers come from u (unsigned) or i (signed), floats from f.
void put_scalar(std::vector<uint8_t>* out, GgufType t, uint64_t u, int64_t i, double f) {
  switch (t) {
    case GgufType::kUint8: put_pod<uint8_t>(out, static_cast<uint8_t>(u)); break;
    case GgufType::kInt8: put_pod<int8_t>(out, static_cast<int8_t>(i)); break;
    case GgufType::kUint16: put_pod<uint16_t>(out, static_cast<uint16_t>(u)); break;
    case GgufType::kInt16: put_pod<int16_t>(out, static_cast<int16_t>(i)); break;
    case GgufType::kUint32: put_pod<uint32_t>(out, static_cast<uint32_t>(u)); break;
    case GgufType::kInt32: put_pod<int32_t>(out, static_cast<int32_t>(i)); break;
    case GgufType::kUint64: put_pod<uint64_t>(out, u); break;
    case GgufType::kInt64: put_pod<int64_t>(out, i); break;
    case GgufType::kFloat32: put_pod<float>(out, static_cast<float>(f)); break;
    case GgufType::kFloat64: put_pod<double>(out, f); break;
    case GgufType::kBool: put_pod<uint8_t>(out, u ? 1 : 0); break;
    default: break;
  }
}

}  // namespace

void put_string(std::vector<uint8_t>* out, const std::string& s) {
  put_pod<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

void put_value(std::vector<uint8_t>* out, const GgufValue& v) {
  if (v.type == GgufType::kString) {
    put_string(out, v.str);
  } else if (v.type == GgufType::kArray) {
    put_pod<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
    put_pod<uint64_t>(out, v.array_size());
    for (const auto& s : v.strs) put_string(out, s);
    for (const auto& item : v.items) put_value(out, item);  // nested arrays: type, count, items
    for (double f : v.floats) put_scalar(out, v.elem_type, 0, 0, f);
    for (int64_t i : v.ints) put_scalar(out, v.elem_type, static_cast<uint64_t>(i), i, 0);
  } else {
    put_scalar(out, v.type, v.u, v.i, v.f);
  }
}

}  // namespace moeinfer::gguf_encode
