// OpenAI response bodies and stream chunks for chat completions and (legacy) completions, built
// from the engine's events.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/generator.h"
#include "server/logprobs.h"
#include "server/request_json.h"
#include "tokenizer/tokenizer.h"

namespace moeinfer {

struct ResponseHead {
  bool chat = false;
  std::string id;     // chatcmpl-... / cmpl-...
  int64_t created = 0;
  std::string model;
};

// "stop" or "length" (a context end and a time limit are lengths; a cancelled job stopped).
const char* api_finish_reason(FinishReason f);

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens = 0);

// choices[0].logprobs: chat's {"content": [...]}, or the legacy {"tokens", "token_logprobs",
// "top_logprobs", "text_offset"} of completions.
Json logprobs_json(bool chat, const std::vector<TokenLogprob>& lps, const Tokenizer& tok, int64_t text_offset0);

// The whole (non-streamed) response.
Json full_response(const ResponseHead& h, const std::string& text, const Json& logprobs, FinishReason f,
                   int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens);

// One stream chunk: text (chat: delta.content; with role for the first), logprobs (or null),
// finish (kNone: null).
Json stream_chunk(const ResponseHead& h, const std::string* text, bool with_role, const Json& logprobs,
                  FinishReason finish);
// The usage chunk of stream_options.include_usage: empty choices.
Json stream_usage_chunk(const ResponseHead& h, int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens);

}  // namespace moeinfer
