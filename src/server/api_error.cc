#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace moeinfer {

std::string error_body(int status, const std::string& message, const std::string& param, const std::string& code) {
  const char* type = status == 401   ? "authentication_error"
                     : status == 429 ? "rate_limit_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  nlohmann::ordered_json e = {{"message", message},
                              {"type", type},
                              {"param", param.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(param)},
                              {"code", code.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(code)}};
  return nlohmann::ordered_json{{"error", e}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace moeinfer
