// moeinfer tokenize (-m MODEL | --tokenizer PATH) (--text TEXT | --jsonl FILE)
// For each text one compact JSON line:
//   {"ids":[...],"ids_with_special":[...],"ids_special_as_text":[...],"decoded":"..."}
// ids: special-token text matched, no BOS; ids_with_special: with BOS as the tokenizer adds it;
// ids_special_as_text: special tokens not matched in the text; decoded: decode(ids).
// MODEL / PATH: a GGUF file, a tokenizer.json[.gz], or a directory holding tokenizer.json.
// Invalid UTF-8 in a text is tokenized as if each maximal invalid subpart were U+FFFD.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/json_writer.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "tokenizer/hf_tokenizer.h"

namespace moeinfer {

int cmd_tokenize(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "a .gguf file or a Hugging Face model directory whose tokenizer to use"},
      {"--tokenizer", "", "PATH", "a tokenizer.json (or .json.gz), its directory, or a GGUF file (vocab-only included)"},
      {"--text", "", "TEXT", "one text"},
      {"--jsonl", "", "FILE", "a JSONL file of objects with a \"text\" key"},
  };
  Args a("tokenize", "(-m MODEL | --tokenizer PATH) (--text TEXT | --jsonl FILE)", specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  const std::string src = a.str(a.one_of({"--model", "--tokenizer"}));
  const std::string input = a.one_of({"--text", "--jsonl"});
  std::unique_ptr<Tokenizer> tok = open_tokenizer(src);

  std::vector<std::string> texts;
  if (input == "--text") {
    texts.push_back(a.str("--text"));
  } else {
    const std::string path = a.str("--jsonl");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path, "", "cannot open");
    std::string line;
    int64_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const std::exception&) {
        throw Error(path, "line " + std::to_string(lineno), "expected a JSON object");
      }
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
        throw Error(path, "line " + std::to_string(lineno), "expected an object with a string \"text\" key");
      texts.push_back(j["text"].get<std::string>());
    }
  }
  for (const std::string& t : texts) {
    std::vector<int32_t> ids = tok->encode(t, false, true);
    std::vector<int32_t> with = tok->encode(t, true, true);
    std::vector<int32_t> as_text = tok->encode(t, false, false);
    JsonWriter j;
    j.begin_object().key("ids").ints(ids).key("ids_with_special").ints(with).key("ids_special_as_text").ints(as_text);
    j.key("decoded").value(tok->decode(ids)).end_object();
    stream_out(j.str() + "\n");
  }
  return 0;
}

}  // namespace moeinfer
