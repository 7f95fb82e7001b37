// Tokenizer test data: tests/data/tokenizers/<name>/ (tokenizer.json.gz, tokenizer_config.json,
// golden.jsonl) and tests/data/llamacpp-vocab/ (gzip-compressed vocab-only GGUFs + .inp/.out),
// copies of ../shared/testdata (see the README files beside them). GGUF files are memory-mapped,
// so they are decompressed once per test process into a temp directory.
#pragma once
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/gzip_file.h"
#include "test_util.h"

namespace moeinfer::test {

inline std::string tokenizer_dir(const std::string& name) { return data_path("tokenizers/" + name); }

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_text_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// The decompressed tests/data/llamacpp-vocab/<file>.gz, e.g. vocab_gguf("ggml-vocab-llama-bpe.gguf").
inline std::string vocab_gguf(const std::string& file) {
  struct Cache {
    std::string dir = temp_dir();
    std::map<std::string, std::string> paths;
    ~Cache() { std::filesystem::remove_all(dir); }
  };
  static Cache cache;
  auto it = cache.paths.find(file);
  if (it != cache.paths.end()) return it->second;
  const std::string out = cache.dir + "/" + file;
  write_text_file(out, read_file_maybe_gzip(data_path("llamacpp-vocab/" + file + ".gz")));
  return cache.paths[file] = out;
}

// The llama.cpp suite: texts of <file>.inp (separated by "\n__ggml_vocab_test__\n"; the text after
// the last separator is not a case) and the ids of <file>.out, one line per text.
struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};
inline std::vector<VocabCase> vocab_cases(const std::string& file) {
  const std::string inp = read_text_file(data_path("llamacpp-vocab/" + file + ".inp"));
  const std::string outp = read_text_file(data_path("llamacpp-vocab/" + file + ".out"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0;;) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;  // the remainder is not a case
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<VocabCase> cases;
  size_t line_start = 0;
  for (const std::string& t : texts) {
    size_t line_end = outp.find('\n', line_start);
    if (line_end == std::string::npos) line_end = outp.size();
    VocabCase c{t, {}};
    const std::string line = outp.substr(line_start, line_end - line_start);
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ') ++j;
      if (j > i) c.ids.push_back(std::stoi(line.substr(i, j - i)));
      i = j;
    }
    cases.push_back(std::move(c));
    line_start = line_end + 1;
  }
  return cases;
}

}  // namespace moeinfer::test
