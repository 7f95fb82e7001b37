// A corpus of malformed GGUF files, generated here from one small valid llama-like file written
// by GgufWriter and then mutated byte by byte. Every one must be rejected by GgufFile::open with a
// moeinfer::Error that names the file and a field (never a crash, hang or out-of-bounds read; the
// suite runs under ASan/UBSan), and `moeinfer info -m FILE` must turn a representative subset into
// exit status 1 with exactly one "moeinfer: <path>: ..." line on stderr and nothing on stdout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "test_util.h"

namespace moeinfer {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kU64Max = ~uint64_t{0};

// Tensor names and the shapes of the base file: A is 10 floats (40 bytes, padded to 64), B is 4x2
// floats at data offset 64, so the data section is 96 bytes and the file ends exactly after B.
const std::string kTensorA = "token_embd.weight";
const std::string kTensorB = "output_norm.weight";

// A fresh temp directory, removed with everything in it when the test ends.
struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

void write_file(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(out.good()) << path;
}

GgufValue bool_array(std::vector<int64_t> v) {
  GgufValue g;
  g.type = GgufType::kArray;
  g.elem_type = GgufType::kBool;
  g.ints = std::move(v);
  return g;
}

// `levels` arrays nested inside each other; the innermost holds one int32.
GgufValue nested_array(int levels) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem_type = GgufType::kInt32;
  v.ints = {7};
  for (int k = 1; k < levels; ++k) {
    GgufValue outer;
    outer.type = GgufType::kArray;
    outer.elem_type = GgufType::kArray;
    outer.items.push_back(std::move(v));
    v = std::move(outer);
  }
  return v;
}

// The valid starting point: metadata of every common shape (strings, u32, f32, bool, string /
// float / int / bool arrays) and two F32 tensors.
GgufWriter base_writer() {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "tiny");
  w.add_uint32("llama.context_length", 64);
  w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "hello"});
  w.add_float32s("tokenizer.ggml.scores", {0.0f, 0.0f, 0.0f, -1.0f});
  w.add_int32s("tokenizer.ggml.token_type", {2, 3, 3, 1});
  w.add("test.flags", bool_array({1, 0}));
  static const std::vector<float> a(10, 0.5f), b(8, -1.0f);
  w.add_tensor(kTensorA, DType::kF32, {10}, a.data(), a.size() * 4);
  w.add_tensor(kTensorB, DType::kF32, {4, 2}, b.data(), b.size() * 4);
  return w;
}

Bytes base_bytes() { return base_writer().serialize(); }

void set_u32(Bytes* b, size_t off, uint32_t v) { std::memcpy(b->data() + off, &v, 4); }
void set_u64(Bytes* b, size_t off, uint64_t v) { std::memcpy(b->data() + off, &v, 8); }
uint64_t get_u64(const Bytes& b, size_t off) {
  uint64_t v;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}

// Offset of the encoded string s (its u64 length, then its bytes); the first occurrence.
size_t find_str(const Bytes& b, const std::string& s) {
  Bytes needle(8);
  set_u64(&needle, 0, s.size());
  needle.insert(needle.end(), s.begin(), s.end());
  auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
  EXPECT_NE(it, b.end()) << "'" << s << "' not found in the base file";
  return it == b.end() ? 0 : static_cast<size_t>(it - b.begin());
}

// Field offsets of a metadata pair: its key's length, its u32 type, and the value after it.
size_t key_len_at(const Bytes& b, const std::string& key) { return find_str(b, key); }
size_t type_at(const Bytes& b, const std::string& key) { return find_str(b, key) + 8 + key.size(); }
size_t value_at(const Bytes& b, const std::string& key) { return type_at(b, key) + 4; }

// Field offsets of a tensor info: name, n_dims, ne[d], type, data offset.
size_t ndims_at(const Bytes& b, const std::string& name) { return find_str(b, name) + 8 + name.size(); }
size_t dim_at(const Bytes& b, const std::string& name, int d) { return ndims_at(b, name) + 4 + 8 * d; }
size_t ttype_at(const Bytes& b, const std::string& name, int n_dims) { return dim_at(b, name, n_dims); }
size_t toffset_at(const Bytes& b, const std::string& name, int n_dims) { return dim_at(b, name, n_dims) + 4; }

struct Case {
  std::string name;   // also the file name
  std::string field;  // a substring the error's field must contain
  Bytes bytes;
};

std::vector<Case> malformed_cases() {
  const Bytes base = base_bytes();
  std::vector<Case> cs;
  // A copy of the base file with one u32 / u64 field overwritten.
  auto u32 = [&](const std::string& name, const std::string& field, size_t off, uint32_t v) {
    Bytes b = base;
    set_u32(&b, off, v);
    cs.push_back({name, field, std::move(b)});
  };
  auto u64 = [&](const std::string& name, const std::string& field, size_t off, uint64_t v) {
    Bytes b = base;
    set_u64(&b, off, v);
    cs.push_back({name, field, std::move(b)});
  };
  // A file written from scratch by a writer the caller adjusted.
  auto written = [&](const std::string& name, const std::string& field, const GgufWriter& w) {
    cs.push_back({name, field, w.serialize()});
  };

  // Magic: anything but "GGUF" at offset 0 (a typo, ggml's old magic, the byte-swapped magic).
  for (const char* m : {"GGUX", "ggjt", "FUGG"}) {
    Bytes b = base;
    std::memcpy(b.data(), m, 4);
    cs.push_back({std::string("magic_") + m, "magic", std::move(b)});
  }
  // Version: only 2 and 3 exist; 0x03000000 is version 3 written big-endian.
  for (uint32_t v : {0u, 1u, 4u, 99u, 0x03000000u, 0xffffffffu}) u32("version_" + std::to_string(v), "version", 4, v);

  // Counts that cannot fit in the file: must be rejected before anything is allocated.
  for (uint64_t n : {uint64_t{1} << 40, uint64_t{1} << 63, kU64Max}) {
    u64("tensor_count_" + std::to_string(n), "tensor_count", 8, n);
    u64("kv_count_" + std::to_string(n), "metadata_kv_count", 16, n);
  }
  // One tensor more than the file holds: the third info is read from padding or past the end.
  u64("tensor_count_plus_one", "tensor", 8, 3);

  // String lengths past the end of the file: a key, a string value, a string-array element.
  for (uint64_t n : {static_cast<uint64_t>(base.size()), uint64_t{1} << 63, kU64Max}) {
    const std::string s = std::to_string(n);
    u64("key_len_" + s, "metadata[0].key", key_len_at(base, "general.architecture"), n);
    u64("string_len_" + s, "general.name", value_at(base, "general.name"), n);
    // The tokens array value is: u32 element type, u64 count, then the elements.
    const size_t tok = value_at(base, "tokenizer.ggml.tokens");
    u64("array_elem0_len_" + s, "tokenizer.ggml.tokens", tok + 12, n);
    u64("array_elem3_len_" + s, "tokenizer.ggml.tokens", find_str(base, "hello"), n);
  }

  // Array lengths that cannot fit (and whose byte size overflows 64 bits for the largest).
  for (uint64_t n : {uint64_t{1} << 40, uint64_t{1} << 62, kU64Max}) {
    const std::string s = std::to_string(n);
    u64("array_len_strings_" + s, "tokenizer.ggml.tokens", value_at(base, "tokenizer.ggml.tokens") + 4, n);
    u64("array_len_floats_" + s, "tokenizer.ggml.scores", value_at(base, "tokenizer.ggml.scores") + 4, n);
    u64("array_len_ints_" + s, "tokenizer.ggml.token_type", value_at(base, "tokenizer.ggml.token_type") + 4, n);
  }

  // Unknown value types: of a metadata value, and of an array's elements.
  for (uint32_t t : {13u, 255u, 0xffffffffu}) {
    u32("value_type_" + std::to_string(t), "general.name", type_at(base, "general.name"), t);
    u32("array_elem_type_" + std::to_string(t), "tokenizer.ggml.tokens", value_at(base, "tokenizer.ggml.tokens"), t);
  }

  // Bools other than 0 and 1: a scalar, and an element of a bool array.
  for (uint8_t v : {uint8_t{2}, uint8_t{0xff}}) {
    Bytes b = base;
    b[value_at(base, "tokenizer.ggml.add_bos_token")] = v;
    cs.push_back({"bool_" + std::to_string(v), "tokenizer.ggml.add_bos_token", std::move(b)});
    Bytes c = base;
    c[value_at(base, "test.flags") + 12 + 1] = v;  // second element
    cs.push_back({"bool_array_" + std::to_string(v), "test.flags", std::move(c)});
  }

  // Arrays nested deeper than the reader allows (it accepts 4 levels; see the control test).
  for (int levels : {5, 64}) {
    GgufWriter w = base_writer();
    w.add("test.deep", nested_array(levels));
    written("nested_arrays_" + std::to_string(levels), "test.deep", w);
  }

  // The same key twice.
  {
    GgufWriter w = base_writer();
    w.add_string("general.name", "again");
    written("duplicate_key", "general.name", w);
  }

  // general.alignment: zero, not a power of two, or not a uint32 (ggml requires uint32).
  for (uint32_t a : {0u, 3u, 48u, 0x80000001u}) {
    GgufWriter w = base_writer();
    w.add_uint32("general.alignment", a);
    written("alignment_" + std::to_string(a), "general.alignment", w);
  }
  {
    GgufWriter w = base_writer();
    GgufValue v;
    v.type = GgufType::kUint64;
    v.u = 32;
    w.add("general.alignment", v);
    written("alignment_uint64", "general.alignment", w);
    GgufWriter w2 = base_writer();
    w2.add_string("general.alignment", "32");
    written("alignment_string", "general.alignment", w2);
    GgufWriter w3 = base_writer();
    w3.add_float32("general.alignment", 32.0f);
    written("alignment_float", "general.alignment", w3);
  }

  // Tensor infos. A tensor name whose length runs past the end of the file.
  u64("tensor_name_len", "tensor[0].name", find_str(base, kTensorA), kU64Max);
  // n_dims outside 1..4 (ggml's GGML_MAX_DIMS is 4).
  for (uint32_t n : {0u, 5u, 0xffffffffu}) u32("n_dims_" + std::to_string(n), kTensorA, ndims_at(base, kTensorA), n);
  // A zero dimension, and a dimension above INT64_MAX.
  u64("dim_zero", kTensorB, dim_at(base, kTensorB, 1), 0);
  u64("dim_2pow63", kTensorA, dim_at(base, kTensorA, 0), uint64_t{1} << 63);
  // Dimensions whose product overflows 64 bits, or exceeds INT64_MAX elements.
  {
    Bytes b = base;
    set_u64(&b, dim_at(base, kTensorB, 0), uint64_t{1} << 32);
    set_u64(&b, dim_at(base, kTensorB, 1), uint64_t{1} << 32);
    cs.push_back({"dims_product_2pow64", kTensorB, std::move(b)});
    Bytes c = base;
    set_u64(&c, dim_at(base, kTensorB, 0), uint64_t{1} << 62);
    set_u64(&c, dim_at(base, kTensorB, 1), 2);
    cs.push_back({"dims_product_2pow63", kTensorB, std::move(c)});
  }
  // Element counts that fit but whose byte size overflows (2^62 floats) or exceeds the file (2^40).
  u64("dim_bytes_overflow", kTensorA, dim_at(base, kTensorA, 0), uint64_t{1} << 62);
  u64("dim_past_eof", kTensorA, dim_at(base, kTensorA, 0), uint64_t{1} << 40);
  // Unknown tensor types: removed ggml ids (4, 5, 31), made-up ids, and the non-GGUF F8 id 1000.
  for (uint32_t t : {4u, 5u, 31u, 77u, 1000u, 0xffffffffu})
    u32("tensor_type_" + std::to_string(t), kTensorA, ttype_at(base, kTensorA, 1), t);
  // A block type (q4_0, 32 elements per block) with a row of 10 elements.
  u32("tensor_type_q4_0_bad_row", kTensorA, ttype_at(base, kTensorA, 1), 2);
  // Data offsets past the end of the file (the last one overflows offset + size).
  for (uint64_t off : {uint64_t{96}, uint64_t{1} << 20, uint64_t{1} << 62, kU64Max - 31})
    u64("tensor_offset_" + std::to_string(off), kTensorB, toffset_at(base, kTensorB, 2), off);
  // Data offsets that are not a multiple of the alignment (32).
  for (uint64_t off : {uint64_t{1}, uint64_t{16}, uint64_t{65}})
    u64("tensor_offset_misaligned_" + std::to_string(off), kTensorB, toffset_at(base, kTensorB, 2), off);
  // Overlapping data: B moved to 32, inside A's [0, 40); and B moved onto A (both at 0).
  u64("tensor_overlap_partial", kTensorB, toffset_at(base, kTensorB, 2), 32);
  u64("tensor_overlap_same_offset", "tensor '", toffset_at(base, kTensorB, 2), 0);
  // Two tensors with one name.
  {
    GgufWriter w = base_writer();
    const float x[8] = {};
    w.add_tensor(kTensorA, DType::kF32, {8}, x, sizeof x);
    written("duplicate_tensor_name", kTensorA, w);
  }
  return cs;
}

std::string what_of(const std::string& path) {
  try {
    GgufFile::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Opens `path` and checks the Error: it names the file and a field containing `field`, its message
// reads "<path>: <field>: ..." and is a single line.
void expect_rejected(const std::string& path, const std::string& field) {
  try {
    GgufFile::open(path);
    ADD_FAILURE() << path << ": opened without an error (expected one naming '" << field << "')";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.file(), path) << msg;
    EXPECT_FALSE(e.field().empty()) << msg;
    EXPECT_NE(e.field().find(field), std::string::npos) << "expected field '" << field << "': " << msg;
    EXPECT_EQ(msg.rfind(path + ": " + e.field() + ": ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// The base file itself is valid and the offsets the mutations use point where they should.
TEST(GgufMalformed, BaseFileIsValid) {
  const Bytes b = base_bytes();
  const TempDir td;
  const std::string path = td.path + "/base.gguf";
  write_file(path, b);
  auto g = GgufFile::open(path);
  ASSERT_EQ(g->tensors().size(), 2u);
  EXPECT_EQ(g->get_string("general.architecture"), "llama");
  EXPECT_EQ(g->get_array("tokenizer.ggml.tokens", GgufType::kString).strs.size(), 4u);
  EXPECT_EQ(g->file_size(), b.size());
  EXPECT_EQ(g->data_offset() + 96, b.size());  // the file ends right after B's data
  EXPECT_EQ(get_u64(b, toffset_at(b, kTensorB, 2)), 64u);
  EXPECT_EQ(get_u64(b, dim_at(b, kTensorB, 1)), 2u);
  EXPECT_EQ(b[value_at(b, "tokenizer.ggml.add_bos_token")], 1);
}

// Control for the depth limit: four nested arrays are accepted, so five are rejected for depth.
TEST(GgufMalformed, FourNestedArraysAreAccepted) {
  GgufWriter w = base_writer();
  w.add("test.deep", nested_array(4));
  const TempDir td;
  const std::string path = td.path + "/deep4.gguf";
  write_file(path, w.serialize());
  EXPECT_NO_THROW(GgufFile::open(path));
}

// Every case of the corpus is rejected with an Error naming the file and the expected field.
TEST(GgufMalformed, CorpusIsRejected) {
  const TempDir td;
  const std::string dir = td.path;
  const std::vector<Case> cs = malformed_cases();
  EXPECT_GE(cs.size(), 80u);
  for (const Case& c : cs) {
    SCOPED_TRACE(c.name);
    const std::string path = dir + "/" + c.name + ".gguf";
    write_file(path, c.bytes);
    expect_rejected(path, c.field);
  }
}

// Truncation at every byte offset of the file (inside the magic, version, counts, each key and
// value, the string array, the tensor infos, the padding and the tensor data): all rejected.
TEST(GgufMalformed, TruncatedAtEveryOffset) {
  const Bytes b = base_bytes();
  const TempDir td;
  const std::string path = td.path + "/truncated.gguf";
  for (size_t len = 0; len < b.size(); ++len) {
    SCOPED_TRACE("truncated to " + std::to_string(len) + " of " + std::to_string(b.size()) + " bytes");
    write_file(path, Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len)));
    expect_rejected(path, "");
  }
}

// A truncation inside a field names that field and says the file is truncated.
TEST(GgufMalformed, TruncationNamesTheField) {
  const Bytes b = base_bytes();
  const TempDir td;
  const std::string path = td.path + "/cut.gguf";
  auto cut = [&](size_t len) {
    write_file(path, Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len)));
    return what_of(path);
  };
  EXPECT_NE(cut(2).find(": magic: "), std::string::npos);
  EXPECT_NE(cut(6).find(": version: "), std::string::npos);
  EXPECT_NE(cut(12).find(": tensor_count: "), std::string::npos);
  // (Early cuts fail the up-front count checks; the last pair and tensor B are past them.)
  EXPECT_NE(cut(value_at(b, "test.flags") + 2).find(": test.flags (array type): "), std::string::npos);
  EXPECT_NE(cut(dim_at(b, kTensorB, 1) + 3).find(": tensor 'output_norm.weight' (dimension 1): "),
            std::string::npos);
  EXPECT_NE(cut(b.size() - 1).find("truncated"), std::string::npos);
}

// Single-byte mutations anywhere in the header (every offset, several values) never crash: the
// file either opens, with every tensor's data inside the file, or is rejected with an Error.
TEST(GgufMalformed, SingleByteMutationsNeverCrash) {
  const Bytes base = base_bytes();
  const TempDir td;
  const std::string path = td.path + "/mutated.gguf";
  const size_t header_end = base.size() - 96;  // the data section is the last 96 bytes
  size_t opened = 0, rejected = 0;
  volatile uint64_t checksum = 0;
  for (size_t off = 0; off < header_end; ++off) {
    for (int v : {0x00, 0x01, 0x0d, 0x7f, 0x80, 0xff, base[off] ^ 0x01}) {
      Bytes b = base;
      b[off] = static_cast<uint8_t>(v);
      write_file(path, b);
      try {
        auto g = GgufFile::open(path);
        ++opened;
        uint64_t total = 0;
        for (const TensorView& t : g->tensors()) {
          total += t.nbytes;
          for (uint64_t k = 0; k < t.nbytes; ++k) checksum = checksum + t.data[k];  // touches every data byte
        }
        EXPECT_LE(g->data_offset() + total, g->file_size()) << "offset " << off << " value " << v;
      } catch (const Error& e) {
        ++rejected;
        EXPECT_EQ(e.file(), path);
      }
    }
  }
  EXPECT_GT(opened, 0u);
  EXPECT_GT(rejected, 0u);
}

// Names with control characters still give a one-line error (the CLI prints exactly one line):
// a duplicated key "evil\nkey" and a duplicated tensor "bad\rname\n".
TEST(GgufMalformed, ControlCharactersInNamesStayOnOneLine) {
  const TempDir td;
  const std::string dir = td.path;
  GgufWriter w = base_writer();
  w.add_string("evil\nkey", "x");
  w.add_string("evil\nkey", "y");
  write_file(dir + "/key.gguf", w.serialize());
  expect_rejected(dir + "/key.gguf", "evil\\x0akey");
  GgufWriter w2 = base_writer();
  const float x[4] = {};
  w2.add_tensor("bad\rname\n", DType::kF32, {4}, x, sizeof x);
  w2.add_tensor("bad\rname\n", DType::kF32, {4}, x, sizeof x);
  write_file(dir + "/tensor.gguf", w2.serialize());
  expect_rejected(dir + "/tensor.gguf", "bad\\x0dname\\x0a");
  const test::CliResult r = test::run_cli({"info", "-m", dir + "/key.gguf"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// Through the CLI: `moeinfer info -m FILE` exits 1 (not a signal), prints nothing on stdout and
// exactly one line on stderr starting with "moeinfer: <path>: ".
TEST(GgufMalformed, CliInfoRejectsMalformedFiles) {
  const std::vector<std::string> subset = {
      "magic_GGUX",          "version_99",          "kv_count_9223372036854775808",
      "key_len_18446744073709551615",                "array_elem3_len_9223372036854775808",
      "array_len_strings_4611686018427387904",       "nested_arrays_64",
      "dims_product_2pow64", "tensor_type_77",      "tensor_offset_1048576",
      "tensor_overlap_partial", "alignment_3",       "bool_2"};
  const TempDir td;
  const std::string dir = td.path;
  size_t found = 0;
  for (const Case& c : malformed_cases()) {
    if (std::find(subset.begin(), subset.end(), c.name) == subset.end()) continue;
    ++found;
    SCOPED_TRACE(c.name);
    const std::string path = dir + "/" + c.name + ".gguf";
    write_file(path, c.bytes);
    const test::CliResult r = test::run_cli({"info", "-m", path});
    EXPECT_FALSE(r.signaled);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << r.err;
    EXPECT_EQ(r.err.rfind("moeinfer: " + path + ": ", 0), 0u) << r.err;
  }
  EXPECT_EQ(found, subset.size());
  // A file truncated in the middle of its tensor infos, through the CLI too.
  const Bytes b = base_bytes();
  const std::string path = dir + "/cut_infos.gguf";
  write_file(path, Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(ndims_at(b, kTensorB))));
  const test::CliResult r = test::run_cli({"info", "-m", path});
  EXPECT_FALSE(r.signaled);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("moeinfer: " + path + ": ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace moeinfer
