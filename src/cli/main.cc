// moeinfer: the command-line entry point. Dispatches to one subcommand and turns errors into the
// contract's exit statuses: 0 success, 1 error, 2 usage error, each with one line on stderr
//   moeinfer: <file>: <field>: <what was expected>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "base/error.h"
#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: moeinfer <command> [options]\n"
    "\n"
    "commands:\n"
    "  run        generate text, streamed to stdout (default model: models/stories260K.gguf)\n"
    "  generate   generate tokens, JSON out: {\"prompt\",\"generated\",\"text\"}\n"
    "  logits     logits for every position of a token sequence, JSON out\n"
    "  tokenize   tokenize text with a model's tokenizer, JSON lines out\n"
    "  chat       chat with a model in the terminal (multi-turn, streamed; lines from a pipe are turns)\n"
    "  serve      OpenAI-compatible HTTP server (chat/completions, completions, streaming, metrics)\n"
    "  chat-template  render a chat template for a list of messages\n"
    "  info       model architecture, hyperparameters and sizes, JSON out\n"
    "  bench      prefill/decode speed, memory and the decode roofline\n"
    "  quantize   convert a GGUF or Llama/Mistral directory to a GGUF of another type (q8_0, q4_k_m, ...)\n"
    "  make-model write a random-weight model in the exact shape of a real one (llama, mistral, deepseek)\n"
    "\n"
    "Run 'moeinfer <command> --help' for a command's options.\n";

struct Command {
  const char* name;
  int (*fn)(int, char**);
};

constexpr Command kCommands[] = {
    {"run", moeinfer::cmd_run},         {"generate", moeinfer::cmd_generate}, {"logits", moeinfer::cmd_logits},
    {"tokenize", moeinfer::cmd_tokenize}, {"info", moeinfer::cmd_info},       {"bench", moeinfer::cmd_bench},
    {"chat-template", moeinfer::cmd_chat_template}, {"serve", moeinfer::cmd_serve}, {"chat", moeinfer::cmd_chat},
    {"quantize", moeinfer::cmd_quantize},     {"make-model", moeinfer::cmd_make_model},
};

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is a write error, never a signal
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::puts("moeinfer 0.1.0");
    return 0;
  }
  try {
    for (const Command& c : kCommands)
      if (cmd == c.name) return c.fn(argc, argv);
    throw moeinfer::UsageError(cmd, "unknown command; run 'moeinfer --help'");
  } catch (const moeinfer::UsageError& e) {
    std::fprintf(stderr, "moeinfer: %s\n", e.what());
    return 2;
  } catch (const moeinfer::Error& e) {
    std::fprintf(stderr, "moeinfer: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "moeinfer: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "moeinfer: %s\n", e.what());
    return 1;
  }
}
