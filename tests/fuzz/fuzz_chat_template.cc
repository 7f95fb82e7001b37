// Chat templates: the input is Jinja source, rendered with a fixed conversation that includes a
// system message, tool definitions, an assistant tool call and a tool result.
#include "chat/chat_template.h"
#include "fuzz_util.h"

using namespace moeinfer;

namespace {
const nlohmann::ordered_json& conversation() {
  static const nlohmann::ordered_json c = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "id": "call_1",
      "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"},
    {"role": "assistant", "content": "21 degrees."},
    {"role": "user", "content": "Thanks"}])");
  return c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  fuzz::errors_only([&] {
    const ChatTemplate t(source, "fuzz.jinja",
                         nlohmann::ordered_json{{"bos_token", "<s>"}, {"eos_token", "</s>"}});
    ChatRenderOptions o;
    o.add_generation_prompt = true;
    o.now = 0;
    o.variables["tools"] = nlohmann::ordered_json::parse(
        R"([{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])");
    (void)t.render(conversation(), o);
  });
  return 0;
}
