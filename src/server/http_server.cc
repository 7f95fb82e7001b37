#include "server/http_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "base/error.h"
#include "server/api_error.h"
#include "server/openai_params.h"
#include "server/openai_response.h"

namespace moeinfer {

bool api_key_matches(const std::string& offered, const std::string& expected) {
  // every byte of the longer string is looked at, whatever matches
  const size_t n = std::max(offered.size(), expected.size());
  unsigned diff = offered.size() == expected.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char a = i < offered.size() ? static_cast<unsigned char>(offered[i]) : 0;
    const unsigned char b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0;
}

namespace {

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(error_body(e), "application/json");
}

void send_json(httplib::Response& res, const Json& j) { res.set_content(dump_json(j), "application/json"); }

std::string endpoint_label(const std::string& path) {
  static const char* known[] = {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health",
                                "/tokenize",            "/detokenize",     "/metrics"};
  for (const char* k : known)
    if (path == k) return k;
  return "other";
}

}  // namespace

struct HttpServer::Impl {
  ServedModel model;
  EngineLoop& engine;
  ServerMetrics& metrics;
  ServerOptions o;
  httplib::Server svr;
  std::atomic<uint64_t> next_id{1};

  Impl(const ServedModel& m, EngineLoop& e, ServerMetrics& mt, const ServerOptions& opt)
      : model(m), engine(e), metrics(mt), o(opt) {}

  std::string new_id(bool chat) {
    char b[48];
    std::snprintf(b, sizeof b, "%s-%016llx", chat ? "chatcmpl" : "cmpl",
                  static_cast<unsigned long long>(next_id.fetch_add(1)));
    return b;
  }

  void setup();
  void completion(const httplib::Request& req, httplib::Response& res, bool chat);
  ServeJob make_job(const CompletionParams& p, std::vector<int32_t> prompt) const;
};

ServeJob HttpServer::Impl::make_job(const CompletionParams& p, std::vector<int32_t> prompt) const {
  if (prompt.empty()) throw bad_field(p.chat ? "messages" : "prompt", "the prompt gives no tokens");
  for (int32_t t : prompt)
    if (t < 0 || t >= model.n_vocab)
      throw bad_field("prompt", "token id " + std::to_string(t) + " is outside the vocabulary [0, " +
                                    std::to_string(model.n_vocab) + ")");
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n >= model.context)
    throw ApiError(400,
                   "the prompt has " + std::to_string(n) + " tokens; the context holds " +
                       std::to_string(model.context) + " (prompt and answer together)",
                   p.chat ? "messages" : "prompt", "context_length_exceeded");
  ServeJob job;
  job.request.prompt = std::move(prompt);
  const int64_t room = model.context - n;
  job.request.n_predict = p.max_tokens < 0 ? room : std::min(p.max_tokens, room);
  job.request.sampling = p.sampling;
  job.request.stop_at_eog = true;
  if (model.tokenizer) job.request.eog = model.tokenizer->eog_ids();
  job.request.stop = p.stop;
  job.logprobs = p.logprobs;
  job.top_logprobs = p.top_logprobs;
  job.timeout_s = o.timeout_s;
  return job;
}

void HttpServer::Impl::completion(const httplib::Request& req, httplib::Response& res, bool chat) {
  const Json body = parse_request_body(req.body);
  CompletionParams p = chat ? parse_chat_request(body) : parse_completion_request(body);
  if (!model.tokenizer) {
    // a model without a vocabulary (random weights from make-model): token ids in and out
    if (chat || !p.prompt_is_ids)
      throw ApiError(400, "the model has no tokenizer: send /v1/completions a prompt of token ids", chat ? "messages" : "prompt");
    if (p.logprobs) throw bad_field("logprobs", "needs a model with a tokenizer");
    if (!p.stop.empty()) throw bad_field("stop", "stop strings need a model with a tokenizer");
  }
  std::vector<int32_t> prompt;
  if (chat) {
    if (!model.chat_template)
      throw ApiError(400,
                     "the model has no chat template: start the server with --chat-template FILE (a Jinja file), "
                     "or use /v1/completions",
                     "messages");
    std::string text;
    try {
      text = model.chat_template->render(p.messages, /*add_generation_prompt=*/true);
    } catch (const ChatTemplateError& e) {
      throw ApiError(400, "the chat template rejected the messages: " + e.message(), "messages");
    }
    // the rendered text carries its special tokens (BOS included)
    prompt = model.tokenizer->encode(text, /*add_special=*/false, /*parse_special=*/true);
  } else if (p.prompt_is_ids) {
    prompt = p.prompt_ids;
  } else {
    prompt = model.tokenizer->encode(p.prompt_text, /*add_special=*/true, /*parse_special=*/true);
  }
  ServeJob job = make_job(p, std::move(prompt));
  std::shared_ptr<JobChannel> ch = engine.submit(std::move(job));
  if (!ch) {
    res.set_header("Retry-After", "1");
    throw ApiError(429, engine.stopping() ? "the server is shutting down"
                                          : "too many requests: every sequence slot and queue place is taken",
                   "", "rate_limit_exceeded");
  }
  ResponseHead head{chat, new_id(chat), static_cast<int64_t>(std::time(nullptr)), o.model_name};
  const Tokenizer* tok = model.tokenizer;
  const double limit = o.timeout_s > 0 ? o.timeout_s + 30.0 : 1e18;  // the engine ends the job first
  if (!p.stream) {
    std::string text;
    std::vector<TokenLogprob> lps;
    std::vector<int32_t> ids;
    StreamEvent last;
    const auto t0 = std::chrono::steady_clock::now();
    for (bool done = false; !done;) {
      std::vector<StreamEvent> evs;
      ch->wait(&evs, 0.5);
      for (StreamEvent& e : evs) {
        text += e.text;
        ids.insert(ids.end(), e.tokens.begin(), e.tokens.end());
        for (auto& lp : e.logprobs) lps.push_back(std::move(lp));
        if (e.done) {
          done = true;
          last = std::move(e);
        }
      }
      if (!done && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > limit) {
        ch->cancel();
        throw ApiError(500, "the request timed out");
      }
    }
    if (last.finish == FinishReason::kError) throw ApiError(500, "generation failed: " + last.error);
    const Json lp = p.logprobs ? logprobs_json(chat, lps, *tok, 0) : Json();
    Json out = full_response(head, text, lp, last.finish, last.prompt_tokens, last.completion_tokens, last.cached_tokens);
    if (!tok) out["choices"][0]["token_ids"] = ids;  // moeinfer's extension for models without a vocabulary
    send_json(res, out);
    return;
  }
  const bool include_usage = p.include_usage, want_lp = p.logprobs;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [ch, head, tok, include_usage, want_lp, chat](size_t, httplib::DataSink& sink) {
        auto send = [&](const Json& j) {
          const std::string s = "data: " + dump_json(j) + "\n\n";
          return sink.write(s.data(), s.size());
        };
        bool first = true;
        int64_t offset = 0;
        if (chat && !send(stream_chunk(head, nullptr, true, Json(), FinishReason::kNone))) {
          ch->cancel();
          return false;
        }
        first = false;
        for (;;) {
          std::vector<StreamEvent> evs;
          if (!ch->wait(&evs, 0.1)) {
            if (!sink.is_writable()) {  // the client went away: its sequence ends
              ch->cancel();
              return false;
            }
            continue;
          }
          for (StreamEvent& e : evs) {
            if (!e.text.empty() || !e.logprobs.empty() || (!tok && !e.tokens.empty())) {
              const Json lp = want_lp ? logprobs_json(chat, e.logprobs, *tok, offset) : Json();
              offset += static_cast<int64_t>(e.text.size());
              Json chunk = stream_chunk(head, &e.text, first, lp, FinishReason::kNone);
              if (!tok) chunk["choices"][0]["token_ids"] = e.tokens;
              if (!send(chunk)) {
                ch->cancel();
                return false;
              }
            }
            if (e.done) {
              if (e.finish == FinishReason::kError) {
                const std::string s = "data: " + error_body(500, "generation failed: " + e.error) + "\n\n";
                sink.write(s.data(), s.size());
              } else {
                send(stream_chunk(head, nullptr, false, Json(), e.finish));
                if (include_usage) send(stream_usage_chunk(head, e.prompt_tokens, e.completion_tokens, e.cached_tokens));
              }
              static const std::string kDone = "data: [DONE]\n\n";
              sink.write(kDone.data(), kDone.size());
              sink.done();
              return true;
            }
          }
        }
      },
      [ch](bool) { ch->cancel(); });  // a no-op once the job is done
}

void HttpServer::Impl::setup() {
  svr.new_task_queue = [n = static_cast<size_t>(o.max_parallel + o.max_queue + 8)] {
    return new httplib::ThreadPool(n);
  };
  svr.set_payload_max_length(o.max_body_bytes);
  const time_t secs = static_cast<time_t>(std::max(1.0, o.timeout_s));
  svr.set_read_timeout(secs, 0);
  svr.set_write_timeout(secs, 0);
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (o.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    std::string offered;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) offered = auth.substr(7);
    if (offered.empty() || !api_key_matches(offered, o.api_key)) {
      send_error(res, ApiError(401, offered.empty() ? "missing API key (Authorization: Bearer KEY)" : "invalid API key",
                               "", "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, std::string("internal error: ") + e.what()));
    } catch (...) {
      send_error(res, ApiError(500, "internal error"));
    }
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 404   ? "unknown endpoint: " + req.method + " " + req.path
                      : res.status == 413 ? "the request body is too large"
                                          : "bad request";
    res.set_content(error_body(res.status, msg), "application/json");
  });
  svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics.count_request(endpoint_label(req.path), res.status);
  });
  auto wrap = [](auto fn) {
    return [fn](const httplib::Request& req, httplib::Response& res) {
      try {
        fn(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const std::bad_alloc&) {
        send_error(res, ApiError(500, "out of memory"));
      } catch (const Error& e) {
        send_error(res, ApiError(400, e.what()));
      } catch (const std::exception& e) {
        send_error(res, ApiError(500, std::string("internal error: ") + e.what()));
      }
    };
  };
  svr.Post("/v1/chat/completions", wrap([this](const httplib::Request& q, httplib::Response& r) { completion(q, r, true); }));
  svr.Post("/v1/completions", wrap([this](const httplib::Request& q, httplib::Response& r) { completion(q, r, false); }));
  svr.Get("/v1/models", wrap([this](const httplib::Request&, httplib::Response& r) {
    Json m = {{"id", o.model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "moeinfer"}};
    send_json(r, Json{{"object", "list"}, {"data", Json::array({m})}});
  }));
  svr.Get("/health", [](const httplib::Request&, httplib::Response& r) {
    r.set_content("{\"status\":\"ok\"}", "application/json");
  });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& r) {
    r.set_content(metrics.text(), "text/plain; version=0.0.4");
  });
  svr.Post("/tokenize", wrap([this](const httplib::Request& q, httplib::Response& r) {
    const Json body = parse_request_body(q.body);
    if (!model.tokenizer) throw ApiError(400, "the model has no tokenizer");
    auto it = body.find("content");
    if (it == body.end() || !it->is_string()) throw bad_field("content", "required: a string");
    const bool add_special = get_bool(body, "add_special", false);
    const std::vector<int32_t> ids = model.tokenizer->encode(it->get<std::string>(), add_special, true);
    send_json(r, Json{{"tokens", ids}});
  }));
  svr.Post("/detokenize", wrap([this](const httplib::Request& q, httplib::Response& r) {
    const Json body = parse_request_body(q.body);
    if (!model.tokenizer) throw ApiError(400, "the model has no tokenizer");
    auto it = body.find("tokens");
    if (it == body.end() || !it->is_array()) throw bad_field("tokens", "required: a list of token ids");
    std::vector<int32_t> ids;
    for (const Json& v : *it) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= model.n_vocab)
        throw bad_field("tokens", "expected token ids in [0, " + std::to_string(model.n_vocab) + ")");
      ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    send_json(r, Json{{"content", model.tokenizer->decode(ids)}});
  }));
}

HttpServer::HttpServer(const ServedModel& model, EngineLoop& engine, ServerMetrics& metrics, const ServerOptions& o)
    : impl_(std::make_unique<Impl>(model, engine, metrics, o)) {
  impl_->setup();
}

HttpServer::~HttpServer() = default;

void HttpServer::bind() {
  const ServerOptions& o = impl_->o;
  if (o.port == 0) {
    port_ = impl_->svr.bind_to_any_port(o.host);
    if (port_ < 0) port_ = 0;
  } else {
    port_ = impl_->svr.bind_to_port(o.host, o.port) ? o.port : 0;
  }
  if (port_ <= 0)
    throw Error("", "--port", "cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                  " (in use, or not an address of this machine)");
}

void HttpServer::serve() { impl_->svr.listen_after_bind(); }

void HttpServer::stop() { impl_->svr.stop(); }

}  // namespace moeinfer
