// Chat templates: the Jinja template a model ships, rendered exactly as Hugging Face transformers'
// tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=...) renders it
// (Python Jinja2, trim_blocks + lstrip_blocks, loop controls, raise_exception, strftime_now,
// tojson without ASCII escaping). Template variables: messages, add_generation_prompt,
// tools = documents = None, and the special-token strings (bos_token, eos_token, unk_token,
// sep_token, pad_token, cls_token, mask_token, additional_special_tokens) that are set; a token
// that is null is left undefined, as in HF's special_tokens_map.
//
// Sources, in HF's order of precedence:
//   - a folder (HF model or tokenizer folder): chat_template.jinja, else tokenizer_config.json's
//     "chat_template", else chat_template.json's; special tokens from tokenizer_config.json,
//     overridden by special_tokens_map.json when present;
//   - a tokenizer_config.json file: its "chat_template" (a string, or a list of {name, template}
//     of which "default" is used);
//   - a GGUF file: tokenizer.chat_template, with the token strings of tokenizer.ggml.tokens at
//     tokenizer.ggml.{bos,eos,unknown,seperator,padding}_token_id.
#pragma once
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace moeinfer {

class GgufFile;
namespace jinja {
struct Program;
}

// A template that does not parse, fails while rendering, or raises on purpose. what() is
// "<file>: chat_template: <message>"; message() is the bare message: for raised() errors exactly
// the template's raise_exception text, otherwise prefixed by "line N: ".
class ChatTemplateError : public Error {
 public:
  ChatTemplateError(const std::string& file, const std::string& message, bool raised)
      : Error(file, "chat_template", message), message_(message), raised_(raised) {}
  const std::string& message() const { return message_; }
  bool raised() const { return raised_; }

 private:
  std::string message_;
  bool raised_;
};

struct ChatRenderOptions {
  bool add_generation_prompt = false;
  // More template variables as a JSON object (tools, documents, enable_thinking, date_string, ...);
  // they override the defaults.
  nlohmann::ordered_json variables = nlohmann::ordered_json::object();
  // The time strftime_now() formats (local time); the current time when unset.
  std::optional<std::time_t> now;
  // Bounds on the work of one rendering (a template is code from the model file): statements,
  // loop iterations and calls; and the size of the output or of any string or list it builds.
  int64_t max_steps = 20'000'000;
  size_t max_output_bytes = 256u << 20;
};

class ChatTemplate {
 public:
  // PATH: a GGUF file, a tokenizer_config.json, or a folder holding one (see above). Throws Error
  // naming the file and key when the template is missing or malformed (syntax errors carry the
  // template line).
  static ChatTemplate load(const std::string& path);
  static ChatTemplate from_tokenizer_config(const std::string& path_or_dir);
  static ChatTemplate from_gguf(const GgufFile& g);

  // Compiles `source` (ChatTemplateError on a syntax error). file names the source in errors;
  // special_tokens is a JSON object of extra variables (normally the special-token strings).
  ChatTemplate(std::string source, std::string file, nlohmann::ordered_json special_tokens);

  // messages: a JSON array of message objects ({"role", "content", ...}); key order is kept, as
  // tojson shows it. Throws ChatTemplateError when the template fails or raises.
  std::string render(const nlohmann::ordered_json& messages, bool add_generation_prompt) const;
  std::string render(const nlohmann::ordered_json& messages, const ChatRenderOptions& options) const;

  const std::string& source() const { return source_; }
  const std::string& file() const { return file_; }
  const nlohmann::ordered_json& special_tokens() const { return special_tokens_; }

 private:
  std::string source_, file_;
  nlohmann::ordered_json special_tokens_;
  std::shared_ptr<const jinja::Program> program_;
};

}  // namespace moeinfer
