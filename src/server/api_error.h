// Errors the server answers with: an HTTP status and OpenAI's error object,
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// type is invalid_request_error (400, 404, 413), authentication_error (401), rate_limit_error (429)
// or server_error (500); param names the request field at fault, when there is one.
#pragma once
#include <stdexcept>
#include <string>

namespace moeinfer {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = "", std::string code = "")
      : std::runtime_error(message), status_(status), param_(std::move(param)), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string param_, code_;
};

// 400 for a field of the request body.
inline ApiError bad_field(const std::string& param, const std::string& message) {
  return ApiError(400, param.empty() ? message : "'" + param + "': " + message, param, "invalid_value");
}

// The OpenAI error object for a status and message (type derived from the status).
std::string error_body(int status, const std::string& message, const std::string& param = "",
                       const std::string& code = "");
inline std::string error_body(const ApiError& e) { return error_body(e.status(), e.what(), e.param(), e.code()); }

}  // namespace moeinfer
