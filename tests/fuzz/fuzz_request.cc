// The server's request bodies: JSON to a validated chat completion and completion request, with no
// model. ApiError (an HTTP 4xx answer) is the expected outcome of a bad body.
#include "fuzz_util.h"
#include "server/api_error.h"
#include "server/openai_params.h"
#include "server/request_json.h"

using namespace moeinfer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const Json j = parse_request_body(body);
    try {
      (void)parse_chat_request(j);
    } catch (const ApiError&) {
    }
    (void)parse_completion_request(j);
  } catch (const ApiError&) {
  } catch (const Error&) {
  }
  return 0;
}
