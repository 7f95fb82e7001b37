// moeinfer chat-template (-m MODEL | --tokenizer PATH) --messages FILE [--add-generation-prompt]
// Writes the model's chat template rendered for the messages to stdout, byte-exact, with no
// newline added (what HF transformers' apply_chat_template(..., tokenize=False) returns).
// MODEL / PATH: a GGUF file, a tokenizer_config.json, or a folder holding one. FILE: a JSON array
// of message objects ({"role", "content", ...}; content may be any JSON value, passed through).
// A template's own error (raise_exception) exits 1 with its message on one stderr line:
//   moeinfer: <file>: chat_template: <message>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "chat/chat_template.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace moeinfer {

namespace {

nlohmann::ordered_json read_messages(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(path, "", "expected valid JSON (an array of {\"role\", \"content\"} objects)");
  if (!j.is_array()) throw Error(path, "", "expected a JSON array of {\"role\", \"content\"} objects");
  for (size_t i = 0; i < j.size(); ++i)
    if (!j[i].is_object()) throw Error(path, "[" + std::to_string(i) + "]", "expected a message object");
  return j;
}

// One stderr line per error, as the CLI contract asks, even when a template's message spans lines.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

int cmd_chat_template(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "a .gguf file or a Hugging Face model folder"},
      {"--tokenizer", "", "PATH", "a tokenizer_config.json, the folder holding it, or a .gguf file"},
      {"--messages", "", "FILE", "a JSON array of {\"role\", \"content\"} message objects"},
      {"--add-generation-prompt", "", "", "end with the header of the assistant's turn"},
  };
  Args a("chat-template", "(-m MODEL | --tokenizer PATH) --messages FILE [--add-generation-prompt]", specs, argc,
         argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  const std::string src = a.str(a.one_of({"--model", "--tokenizer"}));
  if (!a.has("--messages")) throw UsageError("--messages", "required: a JSON array of messages");
  const nlohmann::ordered_json messages = read_messages(a.str("--messages"));
  const ChatTemplate tmpl = ChatTemplate::load(src);
  std::string text;
  try {
    text = tmpl.render(messages, a.flag("--add-generation-prompt"));
  } catch (const ChatTemplateError& e) {
    throw ChatTemplateError(e.file(), one_line(e.message()), e.raised());
  }
  stream_out(text);
  return 0;
}

}  // namespace moeinfer
