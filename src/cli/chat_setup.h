// The chat template `serve` and `chat` use: --chat-template FILE (a Jinja file) when given, else
// the model's own; nullptr when there is neither.
#pragma once
#include <memory>
#include <string>

#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

// A FILE template gets the special-token strings (bos_token, eos_token, ...) of the model's own
// template sources, or of its tokenizer. Throws Error for a FILE that cannot be read or parsed.
std::unique_ptr<ChatTemplate> load_chat_template(const std::string& model_path, const Tokenizer* tok,
                                                 const std::string& template_file);

}  // namespace moeinfer
