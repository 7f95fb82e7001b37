// Round trips through GgufWriter -> GgufFile: every metadata value type, nested arrays, tensor
// infos and data, custom alignment, and a vocab-only file that ends right after its metadata.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "test_util.h"

namespace moeinfer {
namespace {

std::string write_bytes(const std::vector<uint8_t>& bytes, const std::string& name) {
  std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

GgufValue scalar(GgufType t, uint64_t u, int64_t i, double f) {
  GgufValue v;
  v.type = t;
  v.u = u;
  v.i = i;
  v.f = f;
  return v;
}

TEST(GgufReader, RoundTripsEveryValueType) {
  GgufWriter w;
  w.add("u8", scalar(GgufType::kUint8, 200, 0, 0));
  w.add("i8", scalar(GgufType::kInt8, 0, -100, 0));
  w.add("u16", scalar(GgufType::kUint16, 60000, 0, 0));
  w.add("i16", scalar(GgufType::kInt16, 0, -30000, 0));
  w.add("u32", scalar(GgufType::kUint32, 4000000000u, 0, 0));
  w.add("i32", scalar(GgufType::kInt32, 0, -2000000000, 0));
  w.add("u64", scalar(GgufType::kUint64, 1ull << 60, 0, 0));
  w.add("i64", scalar(GgufType::kInt64, 0, -(1ll << 60), 0));
  w.add("f32", scalar(GgufType::kFloat32, 0, 0, 1.5));
  w.add("f64", scalar(GgufType::kFloat64, 0, 0, 2.25));
  w.add_bool("b", true);
  w.add_string("s", "héllo");
  w.add_strings("strs", {"a", "", "ccc"});
  w.add_float32s("floats", {1.0f, -2.5f});
  w.add_int32s("ints", {3, -4});
  GgufValue nested;
  nested.type = GgufType::kArray;
  nested.elem_type = GgufType::kArray;
  for (int k = 0; k < 2; ++k) {
    GgufValue inner;
    inner.type = GgufType::kArray;
    inner.elem_type = GgufType::kUint16;
    inner.ints = {k, k + 1, k + 2};
    nested.items.push_back(inner);
  }
  w.add("nested", nested);
  std::vector<float> data(6);
  for (int i = 0; i < 6; ++i) data[i] = i * 0.5f;
  w.add_tensor("t", DType::kF32, {3, 2}, data.data(), data.size() * 4);
  const std::string path = write_bytes(w.serialize(), "all.gguf");

  auto g = GgufFile::open(path);
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->get_uint("u8"), 200u);
  EXPECT_EQ(g->find("i8")->i, -100);
  EXPECT_EQ(g->get_uint("u16"), 60000u);
  EXPECT_EQ(g->find("i16")->i, -30000);
  EXPECT_EQ(g->get_uint("u32"), 4000000000u);
  EXPECT_EQ(g->find("i32")->i, -2000000000);
  EXPECT_EQ(g->get_uint("u64"), 1ull << 60);
  EXPECT_EQ(g->find("i64")->i, -(1ll << 60));
  EXPECT_EQ(g->get_float("f32"), 1.5);
  EXPECT_EQ(g->get_float("f64"), 2.25);
  EXPECT_TRUE(g->get_bool("b", false));
  EXPECT_EQ(g->get_string("s"), "héllo");
  EXPECT_EQ(g->get_array("strs", GgufType::kString).strs, (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(g->get_array("floats", GgufType::kFloat32).floats, (std::vector<double>{1.0, -2.5}));
  EXPECT_EQ(g->get_array("ints", GgufType::kInt32).ints, (std::vector<int64_t>{3, -4}));
  const GgufValue* n = g->find("nested");
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->items.size(), 2u);
  EXPECT_EQ(n->items[1].ints, (std::vector<int64_t>{1, 2, 3}));
  const TensorView* t = g->find_tensor("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ne[0], 3);
  EXPECT_EQ(t->ne[1], 2);
  EXPECT_EQ(t->nbytes, 24u);
  EXPECT_EQ(std::memcmp(t->data, data.data(), 24), 0);
  EXPECT_EQ(g->data_offset() % 32, 0u);
}

TEST(GgufReader, TypedGettersNameTheKey) {
  GgufWriter w;
  w.add_string("k", "text");
  const std::string path = write_bytes(w.serialize(), "typed.gguf");
  auto g = GgufFile::open(path);
  try {
    g->get_uint("k");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k: expected an unsigned integer, got string"), std::string::npos) << e.what();
  }
  EXPECT_THROW(g->get_uint("missing"), Error);
  EXPECT_EQ(g->get_uint("missing", 7), 7u);
}

TEST(GgufReader, CustomAlignment) {
  GgufWriter w;
  w.set_alignment(64);
  float a[4] = {1, 2, 3, 4};
  w.add_tensor("a", DType::kF32, {1}, a, 4);
  w.add_tensor("b", DType::kF32, {4}, a, 16);
  const std::string path = write_bytes(w.serialize(), "align.gguf");
  auto g = GgufFile::open(path);
  EXPECT_EQ(g->alignment(), 64u);
  EXPECT_EQ(g->data_offset() % 64, 0u);
  EXPECT_EQ((g->find_tensor("b")->data - g->find_tensor("a")->data) % 64, 0);
}

TEST(GgufReader, VocabOnlyFileMayEndAfterMetadata) {
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  std::vector<uint8_t> bytes = w.serialize();  // no tensors: no padding is written
  ASSERT_NE(bytes.size() % 32, 0u);
  auto g = GgufFile::open(write_bytes(bytes, "vocab.gguf"));
  EXPECT_TRUE(g->tensors().empty());
  EXPECT_EQ(g->get_string("tokenizer.ggml.model"), "llama");
}

TEST(GgufReader, ReadsTheShippedModel) {
  auto g = GgufFile::open(test::shipped_model());
  EXPECT_EQ(g->get_string("general.architecture"), "llama");
  EXPECT_EQ(g->tensors().size(), 48u);
  EXPECT_FALSE(g->has("general.alignment"));
  EXPECT_EQ(g->alignment(), 32u);
  const TensorView* e = g->find_tensor("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->ne[0], 64);
  EXPECT_EQ(e->ne[1], 512);
}

TEST(DType, RecognizesQuantizedBlockSizes) {
  uint64_t b = 0;
  EXPECT_TRUE(dtype_row_bytes(DType::kQ4_K, 4096, &b));
  EXPECT_EQ(b, 4096u / 256 * 144);
  EXPECT_TRUE(dtype_row_bytes(DType::kQ8_0, 64, &b));
  EXPECT_EQ(b, 2u * 34);
  EXPECT_TRUE(dtype_row_bytes(DType::kQ6_K, 256, &b));
  EXPECT_EQ(b, 210u);
  EXPECT_FALSE(dtype_row_bytes(DType::kQ4_0, 33, &b));
  EXPECT_EQ(dtype_traits(4), nullptr);  // a removed ggml type id
  EXPECT_EQ(dtype_traits(static_cast<uint32_t>(12))->block_size, 256);
}

}  // namespace
}  // namespace moeinfer
