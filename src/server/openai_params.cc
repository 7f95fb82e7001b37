#include "server/openai_params.h"

#include <climits>
#include <random>

#include "server/api_error.h"

namespace moeinfer {

namespace {

void reject_unsupported(const Json& j) {
  if (j.contains("n") && get_int(j, "n", 1, 1, INT_MAX) != 1) throw bad_field("n", "only n = 1 is supported");
  if (auto it = j.find("tools"); it != j.end() && !it->is_null() && !(it->is_array() && it->empty()))
    throw bad_field("tools", "tools (function calling) are not supported");
  if (auto it = j.find("functions"); it != j.end() && !it->is_null())
    throw bad_field("functions", "functions (function calling) are not supported");
  if (auto it = j.find("response_format"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw bad_field("response_format", "expected an object such as {\"type\": \"text\"}");
    auto t = it->find("type");
    if (t == it->end() || !t->is_string() || t->get<std::string>() != "text")
      throw bad_field("response_format", "only {\"type\": \"text\"} is supported");
  }
}

void parse_common(const Json& j, CompletionParams* p) {
  reject_unsupported(j);
  p->model = get_string(j, "model", "");
  p->max_tokens = get_int(j, "max_tokens", -1, 1, INT32_MAX);
  p->max_tokens = get_int(j, "max_completion_tokens", p->max_tokens, 1, INT32_MAX);
  SamplerOptions& s = p->sampling;
  s.temperature = static_cast<float>(get_number(j, "temperature", s.temperature, 0.0, 2.0));
  s.top_p = static_cast<float>(get_number(j, "top_p", s.top_p, 0.0, 1.0));
  s.top_k = static_cast<int>(get_int(j, "top_k", s.top_k, 0, INT32_MAX));
  s.min_p = static_cast<float>(get_number(j, "min_p", s.min_p, 0.0, 1.0));
  s.repeat_penalty = static_cast<float>(get_number(j, "repeat_penalty", s.repeat_penalty, 0.01, 100.0));
  s.presence_penalty = static_cast<float>(get_number(j, "presence_penalty", 0.0, -2.0, 2.0));
  s.frequency_penalty = static_cast<float>(get_number(j, "frequency_penalty", 0.0, -2.0, 2.0));
  if (j.contains("seed") && !j["seed"].is_null()) {
    s.seed = static_cast<uint64_t>(get_int(j, "seed", 0, INT64_MIN, INT64_MAX));
  } else {
    std::random_device rd;
    s.seed = (static_cast<uint64_t>(rd()) << 32) | rd();
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      p->stop.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      if (it->size() > kMaxStopStrings)
        throw bad_field("stop", "at most " + std::to_string(kMaxStopStrings) + " stop strings");
      for (const Json& v : *it) {
        if (!v.is_string()) throw bad_field("stop", "expected a string or a list of strings");
        p->stop.push_back(v.get<std::string>());
      }
    } else {
      throw bad_field("stop", "expected a string or a list of strings");
    }
    for (const std::string& t : p->stop) {
      if (t.empty()) throw bad_field("stop", "a stop string is empty");
      if (t.size() > kMaxStopBytes)
        throw bad_field("stop", "a stop string is longer than " + std::to_string(kMaxStopBytes) + " bytes");
    }
  }
  p->stream = get_bool(j, "stream", false);
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw bad_field("stream_options", "expected an object");
    p->include_usage = get_bool(*it, "include_usage", false);
  }
}

// A message's content as text: a string, or a list of {"type": "text", "text": ...} parts.
std::string content_text(const Json& c, const std::string& where) {
  if (c.is_string()) return c.get<std::string>();
  if (c.is_array()) {
    std::string out;
    for (const Json& part : c) {
      if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") ||
          !part["text"].is_string())
        throw bad_field(where, "expected a string or a list of {\"type\": \"text\", \"text\": ...} parts");
      out += part["text"].get<std::string>();
    }
    return out;
  }
  throw bad_field(where, "expected a string or a list of text parts");
}

}  // namespace

CompletionParams parse_chat_request(const Json& j) {
  CompletionParams p;
  p.chat = true;
  parse_common(j, &p);
  if (j.contains("logprobs") && !j["logprobs"].is_null()) p.logprobs = get_bool(j, "logprobs", false);
  p.top_logprobs = static_cast<int>(get_int(j, "top_logprobs", 0, 0, 20));
  if (p.top_logprobs > 0 && !p.logprobs) throw bad_field("top_logprobs", "needs \"logprobs\": true");
  auto it = j.find("messages");
  if (it == j.end() || it->is_null()) throw bad_field("messages", "required: a list of messages");
  if (!it->is_array()) throw bad_field("messages", "expected a list of messages");
  if (it->empty()) throw bad_field("messages", "the list is empty");
  p.messages = Json::array();
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& m = (*it)[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw bad_field(at, "expected a message object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) throw bad_field(at + ".role", "required: a string");
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "developer" && r != "user" && r != "assistant" && r != "tool")
      throw bad_field(at + ".role", "unknown role '" + r + "' (expected system, developer, user, assistant or tool)");
    auto content = m.find("content");
    if (content == m.end() || content->is_null()) throw bad_field(at + ".content", "required");
    Json out = {{"role", r == "developer" ? "system" : r}, {"content", content_text(*content, at + ".content")}};
    if (r == "tool" && m.contains("tool_call_id") && m["tool_call_id"].is_string()) out["tool_call_id"] = m["tool_call_id"];
    p.messages.push_back(std::move(out));
  }
  return p;
}

CompletionParams parse_completion_request(const Json& j) {
  CompletionParams p;
  parse_common(j, &p);
  // the legacy API's logprobs: how many alternatives per token (0-5)
  if (j.contains("logprobs") && !j["logprobs"].is_null()) {
    p.logprobs = true;
    p.top_logprobs = static_cast<int>(get_int(j, "logprobs", 0, 0, 5));
  }
  if (get_bool(j, "echo", false)) throw bad_field("echo", "echo is not supported");
  auto it = j.find("prompt");
  if (it == j.end() || it->is_null()) throw bad_field("prompt", "required: a string or a list of token ids");
  const Json* pr = &*it;
  // a one-element batch: ["text"] or [[1, 2, 3]]
  if (pr->is_array() && pr->size() == 1 && ((*pr)[0].is_string() || (*pr)[0].is_array())) pr = &(*pr)[0];
  if (pr->is_string()) {
    p.prompt_text = pr->get<std::string>();
    if (p.prompt_text.empty()) throw bad_field("prompt", "the prompt is empty");
  } else if (pr->is_array()) {
    if (pr->empty()) throw bad_field("prompt", "the prompt is empty");
    for (const Json& v : *pr) {
      if (!v.is_number_integer()) throw bad_field("prompt", "expected a string or a list of token ids (integers)");
      if (v.is_number_unsigned() ? v.get<uint64_t>() > INT32_MAX : (v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX))
        throw bad_field("prompt", "token id " + v.dump() + " is outside the vocabulary");
      p.prompt_ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    p.prompt_is_ids = true;
  } else {
    throw bad_field("prompt", "expected a string or a list of token ids");
  }
  return p;
}

}  // namespace moeinfer
