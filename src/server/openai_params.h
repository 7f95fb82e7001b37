// The OpenAI request bodies the server takes, validated into what the engine runs:
//   POST /v1/chat/completions: messages (system, developer, user, assistant, tool), and
//   POST /v1/completions: prompt (a string, or token ids fed exactly as given),
// both with max_tokens / max_completion_tokens, temperature, top_p, seed, stop, presence_penalty,
// frequency_penalty, logprobs / top_logprobs, stream, stream_options.include_usage, and moeinfer's
// own top_k, min_p and repeat_penalty. Unsupported features (n > 1, tools, a response_format other
// than text) and every wrong type or range are ApiError 400s naming the field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "server/request_json.h"

namespace moeinfer {

constexpr size_t kMaxStopStrings = 16;
constexpr size_t kMaxStopBytes = 256;

struct CompletionParams {
  bool chat = false;
  Json messages;                   // chat: [{"role", "content"}], content as a string
  std::string prompt_text;         // completions: a text prompt
  std::vector<int32_t> prompt_ids; // completions: token ids (prompt_is_ids)
  bool prompt_is_ids = false;
  int64_t max_tokens = -1;         // -1: until the context ends
  SamplerOptions sampling;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  bool logprobs = false;
  int top_logprobs = 0;
  std::string model;
};

CompletionParams parse_chat_request(const Json& body);
CompletionParams parse_completion_request(const Json& body);

}  // namespace moeinfer
