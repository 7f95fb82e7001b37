#include "tensor/fp8.h"

namespace moeinfer {

namespace {
struct Table {
  float v[256];
  Table() {
    for (int i = 0; i < 256; ++i) v[i] = fp8_e4m3_to_f32(static_cast<uint8_t>(i));
  }
};
}  // namespace

const float* fp8_e4m3_table() {
  static const Table t;
  return t.v;
}

}  // namespace moeinfer
