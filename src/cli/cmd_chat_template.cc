// moeinfer chat-template (-m MODEL | --tokenizer PATH) --messages FILE [--add-generation-prompt]
// Placeholder until the chat-template interpreter lands: reports that clearly.
#include "base/error.h"
#include "cli/commands.h"

namespace moeinfer {

int cmd_chat_template(int, char**) {
  throw Error("", "chat-template", "chat templates are not supported yet");
}

}  // namespace moeinfer
