#include "server/openai_response.h"

namespace moeinfer {

const char* api_finish_reason(FinishReason f) {
  switch (f) {
    case FinishReason::kLength:
    case FinishReason::kContext: return "length";
    default: return "stop";
  }
}

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  return Json{{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

namespace {
Json bytes_of(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}
}  // namespace

Json logprobs_json(bool chat, const std::vector<TokenLogprob>& lps, const Tokenizer& tok, int64_t text_offset0) {
  if (chat) {
    Json content = Json::array();
    for (const TokenLogprob& lp : lps) {
      const std::string piece = tok.token_to_piece(lp.id);
      Json top = Json::array();
      for (const auto& [id, v] : lp.top) {
        const std::string p = tok.token_to_piece(id);
        top.push_back({{"token", p}, {"logprob", v}, {"bytes", bytes_of(p)}});
      }
      content.push_back({{"token", piece}, {"logprob", lp.logprob}, {"bytes", bytes_of(piece)}, {"top_logprobs", top}});
    }
    return Json{{"content", content}};
  }
  Json tokens = Json::array(), values = Json::array(), tops = Json::array(), offsets = Json::array();
  int64_t off = text_offset0;
  for (const TokenLogprob& lp : lps) {
    const std::string piece = tok.token_to_piece(lp.id);
    tokens.push_back(piece);
    values.push_back(lp.logprob);
    Json top = Json::object();
    for (const auto& [id, v] : lp.top) top[tok.token_to_piece(id)] = v;
    tops.push_back(top);
    offsets.push_back(off);
    off += static_cast<int64_t>(piece.size());
  }
  return Json{{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

Json full_response(const ResponseHead& h, const std::string& text, const Json& logprobs, FinishReason f,
                   int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  Json choice = {{"index", 0}};
  if (h.chat) choice["message"] = {{"role", "assistant"}, {"content", text}};
  else choice["text"] = text;
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = api_finish_reason(f);
  return Json{{"id", h.id},
              {"object", h.chat ? "chat.completion" : "text_completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", Json::array({choice})},
              {"usage", usage_json(prompt_tokens, completion_tokens, cached_tokens)}};
}

Json stream_chunk(const ResponseHead& h, const std::string* text, bool with_role, const Json& logprobs,
                  FinishReason finish) {
  Json choice = {{"index", 0}};
  if (h.chat) {
    Json delta = Json::object();
    if (with_role) delta["role"] = "assistant";
    if (text) delta["content"] = *text;
    choice["delta"] = delta;
  } else {
    choice["text"] = text ? *text : std::string();
  }
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = finish == FinishReason::kNone ? Json() : Json(api_finish_reason(finish));
  return Json{{"id", h.id},
              {"object", h.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", Json::array({choice})}};
}

Json stream_usage_chunk(const ResponseHead& h, int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  return Json{{"id", h.id},
              {"object", h.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", Json::array()},
              {"usage", usage_json(prompt_tokens, completion_tokens, cached_tokens)}};
}

}  // namespace moeinfer
