// moeinfer serve -m MODEL [--host 127.0.0.1] [--port 8080] [--parallel N] [--ctx N] [--api-key KEY]
//                [--max-queue Q] [--timeout SECONDS] [--alias NAME] [--chat-template FILE]
// An OpenAI-compatible HTTP server (server/http_server.h) with continuous batching. SIGINT or
// SIGTERM stops accepting, ends the streams in flight and exits 0.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/error.h"
#include "cli/chat_setup.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "server/engine_loop.h"
#include "server/http_server.h"

namespace moeinfer {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}
}  // namespace

int cmd_serve(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model: a .gguf file or a Hugging Face model directory"},
      {"--host", "", "HOST", "address to listen on (default 127.0.0.1)"},
      {"--port", "", "PORT", "port (default 8080; 0 = any free port, printed at start)"},
      {"--parallel", "", "N", "sequences decoding at once (default 4)"},
      {"--max-queue", "", "Q", "requests waiting beyond those (default 64; more get 429)"},
      {"--api-key", "", "KEY", "require 'Authorization: Bearer KEY' (default: env MOEINFER_API_KEY, else none)"},
      {"--timeout", "", "SECONDS", "per request: reading it and generating its answer (default 600)"},
      {"--alias", "", "NAME", "the model's name in /v1/models and responses (default: the file name)"},
      {"--chat-template", "", "FILE", "a Jinja chat template (for models without one, or to replace theirs)"},
      {"--max-body", "", "BYTES", "largest request body (default 8388608)"},
      {"--prefix-cache", "", "TOKENS", "KV of earlier prompts kept for requests that share a prefix (default: the context; 0 = off)"},
  };
  for (auto& o : model_run_options()) specs.push_back(o);
  Args a("serve", "-m MODEL [--host H] [--port P] [--parallel N] [--ctx N] [--api-key KEY] [--max-queue Q] "
                  "[--timeout S] [--alias NAME] [--chat-template FILE]",
         specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  if (!a.has("--model")) throw UsageError("--model", "required: the model to serve");
  ServerOptions so;
  so.host = a.str("--host", "127.0.0.1");
  so.port = static_cast<int>(a.integer("--port", 8080, 0, 65535));
  so.max_parallel = a.integer("--parallel", 4, 1, 256);
  so.max_queue = a.integer("--max-queue", 64, 0, 4096);
  so.timeout_s = a.number("--timeout", 600, 1, 86400 * 7);
  so.max_body_bytes = static_cast<size_t>(a.integer("--max-body", 8 << 20, 1024, int64_t{1} << 30));
  so.api_key = a.str("--api-key");
  if (so.api_key.empty())
    if (const char* k = std::getenv("MOEINFER_API_KEY")) so.api_key = k;
  Runtime rt = open_runtime(a, false, false, 0, so.max_parallel);  // the budget holds every slot's KV
  const Model& m = *rt.model;
  so.model_name = a.str("--alias", base_name(m.path()));
  std::unique_ptr<ChatTemplate> tmpl;
  if (rt.tokenizer) {
    tmpl = load_chat_template(m.path(), rt.tokenizer.get(), a.str("--chat-template"));
  } else {
    if (a.has("--chat-template")) throw UsageError("--chat-template", "the model has no tokenizer to render chats with");
    std::fprintf(stderr,
                 "moeinfer: note: %s has no tokenizer: only /v1/completions with token-id prompts works, and answers "
                 "carry \"token_ids\"\n",
                 m.path().c_str());
  }
  auto runner = rt.new_runner(a, 256, so.max_parallel);
  ServerMetrics metrics;
  const int64_t cache_tokens = a.integer("--prefix-cache", runner->context(), 0, int64_t{1} << 30);
  const int64_t cache_blocks = (cache_tokens + runner->kv().block_size() - 1) / runner->kv().block_size();
  EngineLoop engine(*runner, rt.tokenizer.get(), EngineLoop::Options{so.max_parallel, so.max_queue, cache_blocks},
                    &metrics);
  ServedModel sm{rt.tokenizer.get(), tmpl.get(), m.config().n_vocab, runner->context()};
  HttpServer server(sm, engine, metrics, so);
  server.bind();
  std::fprintf(stderr,
               "moeinfer: serving %s as '%s' at http://%s:%d (parallel %lld, queue %lld, context %lld, %d threads, "
               "%s kernels%s%s)\n",
               m.path().c_str(), so.model_name.c_str(), so.host.c_str(), server.port(),
               static_cast<long long>(so.max_parallel), static_cast<long long>(so.max_queue),
               static_cast<long long>(runner->context()), rt.pool->size(), isa_name(rt.kernels->isa()),
               tmpl || !rt.tokenizer ? "" : "; no chat template: /v1/chat/completions answers 400 (use --chat-template FILE)",
               so.api_key.empty() ? "" : "; API key required");
  std::fflush(stderr);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::atomic<bool> served{false};
  std::thread watcher([&] {
    while (!g_stop && !served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (g_stop) {
      std::fprintf(stderr, "moeinfer: stopping: ending the requests in flight\n");
      engine.shutdown();  // streams end with their last chunk and [DONE]
      server.stop();
    }
  });
  server.serve();
  served = true;
  watcher.join();
  engine.shutdown();
  std::fprintf(stderr, "moeinfer: stopped\n");
  return 0;
}

}  // namespace moeinfer
