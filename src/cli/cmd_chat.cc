// moeinfer chat -m MODEL [--system TEXT] [--chat-template FILE] [-n MAX_TOKENS_PER_ANSWER] [sampling]
// Multi-turn chat in the terminal: each line is a user turn, rendered with the history by the chat
// template, and the answer is streamed. /exit ends, /reset forgets the history; Ctrl-C stops the
// current answer (not the program). From a pipe, each input line is one turn and the answers go to
// stdout, one per line group.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "base/error.h"
#include "cli/chat_setup.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/sampling_options.h"
#include "engine/generator.h"

namespace moeinfer {

namespace {
std::atomic<bool> g_interrupt{false};
extern "C" void on_interrupt(int) { g_interrupt = true; }
}  // namespace

int cmd_chat(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model: a .gguf file or a Hugging Face model directory"},
      {"--system", "", "TEXT", "a system message at the start of the conversation"},
      {"--chat-template", "", "FILE", "a Jinja chat template (for models without one, or to replace theirs)"},
      {"--n-predict", "-n", "N", "most tokens per answer (default: until the end of the turn or the context)"},
      {"--verbose-prompt", "", "", "print each turn's rendered prompt to stderr (a JSON string)"},
  };
  for (auto& o : sampling_option_specs()) specs.push_back(o);
  for (auto& o : model_run_options()) specs.push_back(o);
  Args a("chat", "-m MODEL [--system TEXT] [--chat-template FILE] [-n N] [--temp T] [--seed S] [-t N]", specs, argc,
         argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  if (!a.has("--model")) throw UsageError("--model", "required: the model to chat with");
  const int64_t n_max = a.integer("--n-predict", -1, -1, int64_t{1} << 24);
  const SamplerOptions so = sampling_options(a);
  Runtime rt = open_runtime(a, false);
  const Model& m = *rt.model;
  const Tokenizer* tok = rt.tokenizer.get();
  if (!tok) throw Error(m.path(), "tokenizer.ggml.model", "the model has no tokenizer; chat needs one");
  std::unique_ptr<ChatTemplate> tmpl = load_chat_template(m.path(), tok, a.str("--chat-template"));
  if (!tmpl)
    throw Error(m.path(), "chat_template",
                "the model has no chat template; give one with --chat-template FILE (a Jinja file), or use "
                "`moeinfer run` for plain text");
  auto runner = rt.new_runner(a, 256, 2);
  // One generator for the whole conversation: its prefix cache keeps the KV of the history, so a
  // turn computes only what the template added since the last one.
  GeneratorOptions go;
  go.max_parallel = 1;
  go.tokenizer = tok;
  go.prefix_cache_blocks = (runner->context() + runner->kv().block_size() - 1) / runner->kv().block_size();
  Generator gen(*runner, go);
  const bool interactive = isatty(0) && isatty(1);
  std::signal(SIGINT, on_interrupt);
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  auto reset = [&] {
    messages = nlohmann::ordered_json::array();
    if (a.has("--system")) messages.push_back({{"role", "system"}, {"content", a.str("--system")}});
  };
  reset();
  if (interactive)
    std::fprintf(stderr, "moeinfer: chatting with %s; /exit to quit, /reset to start over, Ctrl-C stops an answer\n",
                 m.path().c_str());
  std::string line;
  for (;;) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    g_interrupt = false;
    if (!std::getline(std::cin, line)) {
      if (interactive && g_interrupt) {  // Ctrl-C at the prompt: a fresh prompt
        std::cin.clear();
        std::fputs("\n", stdout);
        continue;
      }
      break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      reset();
      if (interactive) std::fputs("(history cleared)\n", stdout);
      continue;
    }
    if (line.empty() && interactive) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    const std::string prompt = tmpl->render(messages, /*add_generation_prompt=*/true);
    if (a.flag("--verbose-prompt")) std::fprintf(stderr, "%s\n", nlohmann::ordered_json(prompt).dump().c_str());
    std::vector<int32_t> ids = tok->encode(prompt, /*add_special=*/false, /*parse_special=*/true);
    const int64_t room = runner->context() - static_cast<int64_t>(ids.size());
    if (room <= 0) {
      std::fprintf(stderr, "moeinfer: the conversation (%zu tokens) fills the context (%lld); /reset to start over\n",
                   ids.size(), static_cast<long long>(runner->context()));
      messages.erase(messages.end() - 1);
      continue;
    }
    GenRequest r;
    r.prompt = std::move(ids);
    r.n_predict = n_max < 0 ? room : std::min(n_max, room);
    r.sampling = so;
    r.stop_at_eog = true;
    r.eog = tok->eog_ids();
    r.on_text = [](const std::string& t) { stream_out(t); };
    const int64_t id = gen.add(std::move(r));
    while (gen.step())
      if (g_interrupt) gen.cancel(id);
    const GenResult& res = gen.result(id);
    if (res.finish == FinishReason::kError) throw Error(m.path(), "chat", res.error);
    stream_out("\n");
    if (res.finish == FinishReason::kCancelled) std::fputs("(stopped)\n", stderr);
    messages.push_back({{"role", "assistant"}, {"content", res.text}});
    gen.forget(id);
  }
  return 0;
}

}  // namespace moeinfer
