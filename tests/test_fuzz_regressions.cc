// Regression tests for the fuzzers' findings (tests/fuzz, docs/reliability.md), each from its
// minimized input: the input that once escaped as something other than a clear error now ends in
// one.
#include <gtest/gtest.h>

#include <string>

#include "base/error.h"
#include "server/api_error.h"
#include "server/request_json.h"
#include "tokenizer/hf_tokenizer.h"
#include "test_util.h"
#include "tokenizer_test_util.h"

namespace moeinfer {
namespace {

// fuzz_request, 2026-12-06: a number beyond double's range made nlohmann throw out_of_range.406,
// which the body parser did not catch (only parse_error); the server answered 500.
TEST(FuzzRegressions, RequestNumberOutOfRangeIsA400) {
  for (const std::string body : {"99999999999999999999998999999999999000000000000000009740041346839740400000e0204963",
                                 "{\"max_tokens\": 1e999}", "{\"temperature\": -1e400}"}) {
    try {
      parse_request_body(body);
      ADD_FAILURE() << "accepted " << body;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400) << body;
      EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    }
  }
}

// The same escape in tokenizer.json (found by reading the code after the first finding).
TEST(FuzzRegressions, TokenizerJsonNumberOutOfRangeIsAnError) {
  const test::TempDir td;
  test::write_text_file(td.path + "/tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1e999}}}");
  try {
    load_hf_tokenizer(td.path);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected valid JSON"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(td.path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace moeinfer
