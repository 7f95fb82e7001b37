// `moeinfer serve` end to end on the shipped model (127.0.0.1, a free port): completions equal
// `generate --greedy`, chat streamed and not, models, tokenize/detokenize, metrics, the API key,
// a stalled client, a client that leaves mid-stream, shutdown by SIGTERM.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server_process.h"
#include "test_util.h"

namespace moeinfer::test {
namespace {

using nlohmann::json;

std::string chat_template_file() { return data_path("server/llama2.jinja"); }

// The data: lines of an SSE body, parsed (the last one, [DONE], as a string).
std::vector<json> sse_events(const std::string& body, bool* saw_done) {
  std::vector<json> out;
  *saw_done = false;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string d = line.substr(6);
    if (d == "[DONE]") {
      *saw_done = true;
      continue;
    }
    out.push_back(json::parse(d));
  }
  return out;
}

TEST(Server, CompletionAtTemperatureZeroEqualsGenerateGreedy) {
  ServerProcess s({"--chat-template", chat_template_file()});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  for (const std::string prompt : {"Once upon a time", "Lily and Tom went to the park", "The cat"}) {
    auto c = s.client();
    auto r = c.Post("/v1/completions", json{{"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}}.dump(),
                    "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    CliResult g = run_cli({"generate", "-m", shipped_model(), "--text", prompt, "-n", "24", "--greedy"});
    ASSERT_EQ(g.status, 0) << g.err;
    const json ref = json::parse(g.out);
    EXPECT_EQ(j["choices"][0]["text"], ref["text"]) << prompt;
    EXPECT_EQ(j["usage"]["prompt_tokens"], ref["prompt"].size());
    EXPECT_EQ(j["usage"]["completion_tokens"], 24);
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    // token ids are fed exactly as given
    auto r2 = c.Post("/v1/completions", json{{"prompt", ref["prompt"]}, {"max_tokens", 24}, {"temperature", 0}}.dump(),
                     "application/json");
    ASSERT_TRUE(r2);
    EXPECT_EQ(json::parse(r2->body)["choices"][0]["text"], ref["text"]);
  }
}

TEST(Server, ChatStreamedEqualsNotStreamed) {
  ServerProcess s({"--chat-template", chat_template_file(), "--alias", "tiny"});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  auto c = s.client();
  const json msgs = json::array({json{{"role", "system"}, {"content", "Be brief."}},
                                 json{{"role", "user"}, {"content", "Tell me a story."}}});
  json req = {{"model", "tiny"}, {"messages", msgs}, {"max_tokens", 30}, {"temperature", 0.7}, {"seed", 42}};
  auto r = c.Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json full = json::parse(r->body);
  EXPECT_EQ(full["object"], "chat.completion");
  EXPECT_EQ(full["model"], "tiny");
  EXPECT_EQ(full["choices"][0]["message"]["role"], "assistant");
  const std::string text = full["choices"][0]["message"]["content"];
  EXPECT_FALSE(text.empty());
  req["stream"] = true;
  req["stream_options"] = {{"include_usage", true}};
  auto rs = c.Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(rs);
  ASSERT_EQ(rs->status, 200);
  EXPECT_NE(rs->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  bool done = false;
  const std::vector<json> ev = sse_events(rs->body, &done);
  EXPECT_TRUE(done);
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev.front()["choices"][0]["delta"]["role"], "assistant");
  std::string streamed;
  std::string finish;
  for (const json& e : ev) {
    if (e.contains("usage")) {
      EXPECT_TRUE(e["choices"].empty());
      EXPECT_EQ(e["usage"], full["usage"]);
      continue;
    }
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    const json& ch = e["choices"][0];
    if (ch["delta"].contains("content")) streamed += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
  }
  EXPECT_EQ(streamed, text);  // same seed: same text
  EXPECT_EQ(finish, full["choices"][0]["finish_reason"]);
  EXPECT_TRUE(ev.back().contains("usage"));
}

TEST(Server, StopStringsLogprobsModelsTokenizeMetrics) {
  ServerProcess s({"--chat-template", chat_template_file()});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  auto c = s.client();
  // the greedy text, then the same request stopping at a word inside it
  auto r = c.Post("/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 30}, {"temperature", 0}}.dump(),
                  "application/json");
  ASSERT_TRUE(r);
  const std::string text = json::parse(r->body)["choices"][0]["text"];
  const size_t at = text.find("Lily");
  ASSERT_NE(at, std::string::npos) << text;
  auto rs = c.Post("/v1/completions",
                   json{{"prompt", "Once upon a time"}, {"max_tokens", 30}, {"temperature", 0}, {"stop", {"Lily", "zzz"}}}.dump(),
                   "application/json");
  ASSERT_TRUE(rs);
  const json js = json::parse(rs->body);
  EXPECT_EQ(js["choices"][0]["text"], text.substr(0, at));
  EXPECT_EQ(js["choices"][0]["finish_reason"], "stop");
  // logprobs: the greedy token is the most likely one, probabilities below 1
  auto rl = c.Post("/v1/chat/completions",
                   json{{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                        {"max_tokens", 5},
                        {"temperature", 0},
                        {"logprobs", true},
                        {"top_logprobs", 3}}
                       .dump(),
                   "application/json");
  ASSERT_TRUE(rl);
  ASSERT_EQ(rl->status, 200) << rl->body;
  const json lp = json::parse(rl->body)["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), 5u);
  for (const json& t : lp) {
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_EQ(t["top_logprobs"][0]["token"], t["token"]);
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    EXPECT_GE(t["logprob"].get<double>(), t["top_logprobs"][1]["logprob"].get<double>());
  }
  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(m->body)["data"][0]["id"], "stories260K.gguf");
  auto tk = c.Post("/tokenize", json{{"content", "Once upon a time"}}.dump(), "application/json");
  ASSERT_TRUE(tk);
  const json ids = json::parse(tk->body)["tokens"];
  EXPECT_EQ(ids, json::array({403, 407, 261, 378}));
  auto dt = c.Post("/detokenize", json{{"tokens", ids}}.dump(), "application/json");
  ASSERT_TRUE(dt);
  EXPECT_EQ(json::parse(dt->body)["content"], "Once upon a time");
  auto mt = c.Get("/metrics");
  ASSERT_TRUE(mt);
  EXPECT_NE(mt->body.find("moeinfer_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 2"), std::string::npos);
  EXPECT_NE(mt->body.find("# TYPE moeinfer_time_to_first_token_seconds histogram"), std::string::npos);
  EXPECT_NE(mt->body.find("moeinfer_generated_tokens_total "), std::string::npos);
  EXPECT_EQ(s.stop(), 0) << s.stderr_text();
}

TEST(Server, ApiKeyIsRequiredWhenSet) {
  ServerProcess s({"--api-key", "sekrit-123"});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  const std::string body = json{{"prompt", "Once"}, {"max_tokens", 2}}.dump();
  auto none = s.client().Post("/v1/completions", body, "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(json::parse(none->body)["error"]["type"], "authentication_error");
  auto wrong = s.client("sekrit-124").Post("/v1/completions", body, "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto shorter = s.client("sekrit").Get("/v1/models");
  ASSERT_TRUE(shorter);
  EXPECT_EQ(shorter->status, 401);
  auto right = s.client("sekrit-123").Post("/v1/completions", body, "application/json");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  auto health = s.client().Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(Server, ChatWithoutTemplateIs400ButCompletionsWork) {
  ServerProcess s({});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  auto r = s.client().Post("/v1/chat/completions", json{{"messages", {{{"role", "user"}, {"content", "x"}}}}}.dump(),
                           "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(json::parse(r->body)["error"]["message"].get<std::string>().find("--chat-template"), std::string::npos);
  auto c = s.client().Post("/v1/completions", json{{"prompt", "x"}, {"max_tokens", 2}}.dump(), "application/json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 200);
}

TEST(Server, StalledClientIsDroppedAndLeavingClientCancels) {
  ServerProcess s({"--timeout", "2", "--ctx", "512"});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  // half a request, then silence: the server closes the connection after --timeout
  int fd = connect_raw(s.port(), 20);
  ASSERT_GE(fd, 0);
  send_all(fd, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"pro");
  const auto t0 = std::chrono::steady_clock::now();
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
  }
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  close(fd);
  EXPECT_EQ(n, 0) << "the server should close the stalled connection";
  EXPECT_LT(waited, 15.0);
  // a streaming client that reads one chunk and leaves: its sequence ends
  fd = connect_raw(s.port(), 20);
  ASSERT_GE(fd, 0);
  const std::string body = json{{"prompt", "Once upon a time"}, {"max_tokens", 400}, {"stream", true}}.dump();
  send_all(fd, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body);
  n = recv(fd, buf, sizeof buf, 0);
  EXPECT_GT(n, 0);
  close(fd);
  bool idle = false;
  for (int i = 0; i < 100 && !idle; ++i) {  // 10 s at most
    auto m = s.client().Get("/metrics");
    ASSERT_TRUE(m);
    idle = m->body.find("moeinfer_active_sequences 0") != std::string::npos;
    if (!idle) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(idle);
  auto h = s.client().Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(s.stop(), 0);
}

}  // namespace
}  // namespace moeinfer::test

namespace moeinfer::test {
namespace {

TEST(Server, SigtermEndsTheStreamsInFlightAndExitsZero) {
  ServerProcess s({"--ctx", "60000"});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  int fd = start_stream(s.port(), 50000);
  ASSERT_GE(fd, 0);
  kill(s.pid(), SIGTERM);
  std::string got;
  char buf[8192];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_NE(got.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_NE(got.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(s.stop(), 0) << s.stderr_text();
}

}  // namespace
}  // namespace moeinfer::test

namespace moeinfer::test {
namespace {

TEST(Server, PrefixCacheReusesASharedSystemPrompt) {
  std::string system = "You are a storyteller.";
  for (int i = 0; i < 12; ++i) system += " Once upon a time there was a little girl named Lily who loved to play.";
  auto body = [&](const std::string& q) {
    return nlohmann::json{{"messages", {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", q}}}},
                          {"max_tokens", 16},
                          {"temperature", 0}}
        .dump();
  };
  ServerProcess cold({"--chat-template", data_path("server/llama2.jinja"), "--prefix-cache", "0"});
  ServerProcess warm({"--chat-template", data_path("server/llama2.jinja")});
  ASSERT_GT(cold.port(), 0) << cold.stderr_text();
  ASSERT_GT(warm.port(), 0) << warm.stderr_text();
  for (const std::string q : {"Tell me a story.", "What did Lily do?", "Tell me a story."}) {
    auto rc = cold.client().Post("/v1/chat/completions", body(q), "application/json");
    auto rw = warm.client().Post("/v1/chat/completions", body(q), "application/json");
    ASSERT_TRUE(rc && rw);
    ASSERT_EQ(rw->status, 200) << rw->body;
    const nlohmann::json c = nlohmann::json::parse(rc->body), w = nlohmann::json::parse(rw->body);
    EXPECT_EQ(w["choices"][0]["message"]["content"], c["choices"][0]["message"]["content"]) << q;
    EXPECT_EQ(c["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    if (q != "Tell me a story." || w["id"] != "chatcmpl-0000000000000001")
      EXPECT_GE(w["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(), 128) << q;
  }
  auto m = warm.client().Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("moeinfer_prefix_cache_hits_total 2"), std::string::npos) << m->body;
}

}  // namespace
}  // namespace moeinfer::test

namespace moeinfer::test {
namespace {

TEST(Server, BeyondParallelAndQueueIs429WithRetryAfter) {
  ServerProcess s({"--ctx", "60000", "--parallel", "1", "--max-queue", "0"});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  // one long stream holds the only sequence slot
  int fd = start_stream(s.port(), 50000);
  ASSERT_GE(fd, 0);
  auto r = s.client().Post("/v1/completions", nlohmann::json{{"prompt", "Hi"}, {"max_tokens", 2}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(nlohmann::json::parse(r->body)["error"]["type"], "rate_limit_error");
  close(fd);  // the stream's client leaves: its slot frees, and requests are served again
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    auto again = s.client().Post("/v1/completions", nlohmann::json{{"prompt", "Hi"}, {"max_tokens", 2}}.dump(), "application/json");
    served = again && again->status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
  EXPECT_EQ(s.stop(), 0) << s.stderr_text();
}

}  // namespace
}  // namespace moeinfer::test
