// moeinfer's OpenAI-compatible HTTP server (cpp-httplib): the routes, authentication, bounds and
// the mapping of engine events to JSON responses and Server-Sent Events.
//   POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health,
//   POST /tokenize, POST /detokenize, GET /metrics
// Every error is an OpenAI error object with its 4xx/5xx status (server/api_error.h).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "chat/chat_template.h"
#include "server/engine_loop.h"
#include "server/metrics.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port (see HttpServer::port)
  std::string api_key;           // empty: no authentication
  std::string model_name;        // what /v1/models and responses call the model
  size_t max_body_bytes = 8u << 20;
  double timeout_s = 600;        // per request: reading it and generating its answer
  int64_t max_parallel = 4, max_queue = 64;
};

// What the handlers need from the loaded model.
struct ServedModel {
  const Tokenizer* tokenizer = nullptr;
  const ChatTemplate* chat_template = nullptr;  // nullptr: chat requests get a 400
  int64_t n_vocab = 0;
  int64_t context = 0;
};

class HttpServer {
 public:
  HttpServer(const ServedModel& model, EngineLoop& engine, ServerMetrics& metrics, const ServerOptions& o);
  ~HttpServer();
  // Binds host:port; throws Error when it cannot. Then port() is the bound port.
  void bind();
  int port() const { return port_; }
  // Serves until stop(); returns after the requests in flight have been answered.
  void serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Constant-time comparison of an offered API key with the expected one.
bool api_key_matches(const std::string& offered, const std::string& expected);

}  // namespace moeinfer
