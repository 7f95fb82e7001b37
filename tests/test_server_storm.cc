// Bad requests against `moeinfer serve`: each gets its 4xx with an OpenAI error object (or, for
// a stalled client, a closed connection), and /health answers after each. Then a load of 200
// mixed requests, 8 at a time: no failures, and no memory growth past the first 20.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>

#include "server_process.h"
#include "test_util.h"

namespace moeinfer::test {
namespace {

using nlohmann::json;

struct Bad {
  const char* name;
  const char* method;
  const char* path;
  std::string body;
  int status;
  const char* content_type = "application/json";
};

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ServerStorm, EveryBadRequestGetsIts4xxAndTheServerStaysUp) {
  ServerProcess s({"--chat-template", data_path("server/llama2.jinja"), "--max-body", "200000"});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  const std::string chat = "/v1/chat/completions", cmpl = "/v1/completions";
  const json user = json::array({json{{"role", "user"}, {"content", "hi"}}});
  auto with = [&](json j, const char* k, json v) {
    j[k] = v;
    return j.dump();
  };
  const json base_chat = {{"messages", user}, {"max_tokens", 4}};
  const json base_cmpl = {{"prompt", "Once"}, {"max_tokens", 4}};
  json stops = json::array();
  for (int i = 0; i < 10000; ++i) stops.push_back("s" + std::to_string(i));
  const std::vector<Bad> cases = {
      {"malformed JSON", "POST", cmpl.c_str(), "{\"prompt\": \"a\",", 400},
      {"truncated JSON", "POST", cmpl.c_str(), "{\"prompt\": \"Once up", 400},
      {"deeply nested JSON", "POST", cmpl.c_str(), repeat("[", 5000) + repeat("]", 5000), 400},
      {"nested object in a field", "POST", cmpl.c_str(), "{\"prompt\": " + repeat("{\"a\":", 100) + "1" + repeat("}", 100) + "}", 400},
      {"not an object", "POST", cmpl.c_str(), "[1, 2, 3]", 400},
      {"empty body", "POST", cmpl.c_str(), "", 400},
      {"body over the limit", "POST", cmpl.c_str(), "{\"prompt\": \"" + std::string(250000, 'a') + "\"}", 413},
      {"prompt of the wrong type", "POST", cmpl.c_str(), with(base_cmpl, "prompt", 12), 400},
      {"no prompt", "POST", cmpl.c_str(), "{\"max_tokens\": 3}", 400},
      {"empty prompt", "POST", cmpl.c_str(), with(base_cmpl, "prompt", ""), 400},
      {"token id outside the vocabulary", "POST", cmpl.c_str(), with(base_cmpl, "prompt", json::array({1, 100000})), 400},
      {"negative token id", "POST", cmpl.c_str(), with(base_cmpl, "prompt", json::array({1, -5})), 400},
      {"negative max_tokens", "POST", cmpl.c_str(), with(base_cmpl, "max_tokens", -3), 400},
      {"huge max_tokens", "POST", cmpl.c_str(), with(base_cmpl, "max_tokens", 1e30), 400},
      {"fractional max_tokens", "POST", cmpl.c_str(), with(base_cmpl, "max_tokens", 2.5), 400},
      {"max_tokens as a string", "POST", cmpl.c_str(), with(base_cmpl, "max_tokens", "10"), 400},
      {"temperature out of range", "POST", cmpl.c_str(), with(base_cmpl, "temperature", 3.5), 400},
      {"top_p out of range", "POST", cmpl.c_str(), with(base_cmpl, "top_p", -0.1), 400},
      {"presence_penalty out of range", "POST", cmpl.c_str(), with(base_cmpl, "presence_penalty", 9), 400},
      {"seed as a string", "POST", cmpl.c_str(), with(base_cmpl, "seed", "x"), 400},
      {"stream as a number", "POST", cmpl.c_str(), with(base_cmpl, "stream", 1), 400},
      {"10,000 stop strings", "POST", cmpl.c_str(), with(base_cmpl, "stop", stops), 400},
      {"a stop string too long", "POST", cmpl.c_str(), with(base_cmpl, "stop", std::string(300, 'x')), 400},
      {"stop of the wrong type", "POST", cmpl.c_str(), with(base_cmpl, "stop", 5), 400},
      {"invalid UTF-8", "POST", cmpl.c_str(), "{\"prompt\": \"\xff\xfe\xc3\"}", 400},
      {"n = 2", "POST", cmpl.c_str(), with(base_cmpl, "n", 2), 400},
      {"empty messages", "POST", chat.c_str(), with(base_chat, "messages", json::array()), 400},
      {"messages not a list", "POST", chat.c_str(), with(base_chat, "messages", "hi"), 400},
      {"unknown role", "POST", chat.c_str(), with(base_chat, "messages", json::array({json{{"role", "robot"}, {"content", "x"}}})), 400},
      {"message without content", "POST", chat.c_str(), with(base_chat, "messages", json::array({json{{"role", "user"}}})), 400},
      {"message that is not an object", "POST", chat.c_str(), with(base_chat, "messages", json::array({1})), 400},
      {"tools", "POST", chat.c_str(), with(base_chat, "tools", json::array({json{{"type", "function"}}})), 400},
      {"response_format json", "POST", chat.c_str(), with(base_chat, "response_format", json{{"type", "json_object"}}), 400},
      {"top_logprobs without logprobs", "POST", chat.c_str(), with(base_chat, "top_logprobs", 3), 400},
      {"top_logprobs too many", "POST", chat.c_str(), with(json::parse(with(base_chat, "logprobs", true)), "top_logprobs", 50), 400},
      {"unknown endpoint", "GET", "/v1/engines", "", 404},
      {"wrong method", "GET", chat.c_str(), "", 404},
      {"wrong method on completions", "DELETE", cmpl.c_str(), "", 404},
      {"tokenize without content", "POST", "/tokenize", "{}", 400},
      {"detokenize with a bad id", "POST", "/detokenize", "{\"tokens\": [1, 999999]}", 400},
  };
  ASSERT_GE(cases.size(), 30u);
  for (const Bad& b : cases) {
    auto c = s.client();
    httplib::Result r = std::string(b.method) == "GET"    ? c.Get(b.path)
                        : std::string(b.method) == "DELETE" ? c.Delete(b.path)
                                                            : c.Post(b.path, b.body, b.content_type);
    ASSERT_TRUE(r) << b.name << ": no response";
    EXPECT_EQ(r->status, b.status) << b.name << ": " << r->body;
    json e = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << b.name << ": " << r->body;
    EXPECT_TRUE(e["error"]["message"].is_string()) << b.name;
    EXPECT_TRUE(e["error"]["type"].is_string()) << b.name;
    auto h = s.client().Get("/health");
    ASSERT_TRUE(h) << "after " << b.name;
    EXPECT_EQ(h->status, 200) << "after " << b.name;
  }
  EXPECT_EQ(s.stop(), 0) << s.stderr_text();
}

TEST(ServerStorm, TwoHundredMixedRequestsEightAtATime) {
  ServerProcess s({"--chat-template", data_path("server/llama2.jinja"), "--parallel", "4", "--max-queue", "16"});
  ASSERT_GT(s.port(), 0) << s.stderr_text();
  std::atomic<int> next{0}, failures{0}, done{0};
  std::atomic<long> rss_after_20{-1};
  std::mutex mu;
  std::string first_failure;
  auto worker = [&](int w) {
    std::mt19937 rng(static_cast<uint32_t>(w) * 7919u + 1u);
    for (int i; (i = next.fetch_add(1)) < 200;) {
      const bool stream = rng() % 2 == 0, chat = rng() % 3 != 0;
      const int max_tokens = 1 + static_cast<int>(rng() % 48);
      json req = {{"max_tokens", max_tokens}, {"stream", stream}, {"seed", i}};
      if (chat) req["messages"] = json::array({json{{"role", "user"}, {"content", "Story " + std::to_string(i)}}});
      else req["prompt"] = "Once upon a time " + std::to_string(i);
      auto c = s.client();
      auto r = c.Post(chat ? "/v1/chat/completions" : "/v1/completions", req.dump(), "application/json");
      bool ok = r && r->status == 200;
      if (ok && stream) ok = r->body.find("data: [DONE]") != std::string::npos;
      if (ok && !stream) {
        const json j = json::parse(r->body, nullptr, false);
        ok = !j.is_discarded() && j["usage"]["completion_tokens"].get<int>() <= max_tokens;
      }
      if (!ok) {
        ++failures;
        std::lock_guard<std::mutex> lock(mu);
        if (first_failure.empty()) first_failure = r ? std::to_string(r->status) + " " + r->body : "no response";
      }
      if (++done == 20) rss_after_20 = s.rss_kb();
    }
  };
  std::vector<std::thread> ts;
  for (int w = 0; w < 8; ++w) ts.emplace_back(worker, w);
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  const long after = s.rss_kb();
  ASSERT_GT(rss_after_20.load(), 0);
  EXPECT_LE(after, rss_after_20.load() + 50 * 1024) << "RSS after 20 requests " << rss_after_20.load()
                                                     << " kB, after 200 " << after << " kB";
  EXPECT_EQ(s.stop(), 0) << s.stderr_text();
}

}  // namespace
}  // namespace moeinfer::test
