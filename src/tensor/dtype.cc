#include "tensor/dtype.h"

#include "base/checked_math.h"

namespace moeinfer {

namespace {

struct Entry {
  uint32_t id;
  DTypeTraits traits;
};

// Block sizes and byte sizes follow ggml's type_traits table (ggml.c) and the block structs of
// ggml-common.h; they are a file-format specification.
constexpr Entry kTable[] = {
    {0, {"f32", 1, 4, true}},        {1, {"f16", 1, 2, true}},          {2, {"q4_0", 32, 18, true}},
    {3, {"q4_1", 32, 20, false}},    {6, {"q5_0", 32, 22, true}},      {7, {"q5_1", 32, 24, false}},
    {8, {"q8_0", 32, 34, true}},    {9, {"q8_1", 32, 36, false}},      {10, {"q2_K", 256, 84, false}},
    {11, {"q3_K", 256, 110, false}}, {12, {"q4_K", 256, 144, true}},   {13, {"q5_K", 256, 176, true}},
    {14, {"q6_K", 256, 210, true}}, {15, {"q8_K", 256, 292, false}},   {16, {"iq2_xxs", 256, 66, false}},
    {17, {"iq2_xs", 256, 74, false}}, {18, {"iq3_xxs", 256, 98, false}}, {19, {"iq1_s", 256, 50, false}},
    {20, {"iq4_nl", 32, 18, false}}, {21, {"iq3_s", 256, 110, false}},  {22, {"iq2_s", 256, 82, false}},
    {23, {"iq4_xs", 256, 136, false}}, {24, {"i8", 1, 1, false}},       {25, {"i16", 1, 2, false}},
    {26, {"i32", 1, 4, false}},      {27, {"i64", 1, 8, false}},        {28, {"f64", 1, 8, false}},
    {29, {"iq1_m", 256, 56, false}}, {30, {"bf16", 1, 2, true}},        {34, {"tq1_0", 256, 54, false}},
    {35, {"tq2_0", 256, 66, false}}, {39, {"mxfp4", 32, 17, false}},    {1000, {"f8_e4m3", 1, 1, true}},
};

}  // namespace

const DTypeTraits* dtype_traits(uint32_t id) {
  for (const Entry& e : kTable)
    if (e.id == id) return &e.traits;
  return nullptr;
}

const DTypeTraits& dtype_traits(DType t) { return *dtype_traits(static_cast<uint32_t>(t)); }

bool dtype_row_bytes(DType t, uint64_t n, uint64_t* bytes) {
  const DTypeTraits& tr = dtype_traits(t);
  if (n % static_cast<uint64_t>(tr.block_size) != 0) return false;
  return checked_mul(n / tr.block_size, tr.type_size, bytes);
}

}  // namespace moeinfer
