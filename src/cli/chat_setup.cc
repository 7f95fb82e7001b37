#include "cli/chat_setup.h"

#include <fstream>
#include <sstream>

#include "base/error.h"

namespace moeinfer {

std::unique_ptr<ChatTemplate> load_chat_template(const std::string& model_path, const Tokenizer* tok,
                                                 const std::string& template_file) {
  std::unique_ptr<ChatTemplate> own;
  try {
    own = std::make_unique<ChatTemplate>(ChatTemplate::load(model_path));
  } catch (const ChatTemplateError&) {
    if (template_file.empty()) throw;  // the model's template is broken: say so
  } catch (const Error&) {
    // no template in the model
  }
  if (template_file.empty()) return own;
  std::ifstream in(template_file, std::ios::binary);
  if (!in) throw Error(template_file, "", "cannot open the chat template file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::ordered_json special = own ? own->special_tokens() : nlohmann::ordered_json::object();
  if (!own && tok) {
    if (tok->bos_id() >= 0) special["bos_token"] = tok->token_to_piece(tok->bos_id());
    if (tok->eos_id() >= 0) special["eos_token"] = tok->token_to_piece(tok->eos_id());
  }
  return std::make_unique<ChatTemplate>(ss.str(), template_file, special);
}

}  // namespace moeinfer
