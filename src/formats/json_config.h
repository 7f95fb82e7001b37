// Typed, error-reporting access to a JSON configuration file (Hugging Face config.json,
// tokenizer_config.json): every failure names the file and the key.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moeinfer {

class JsonConfig {
 public:
  // Reads and parses the file; throws Error(path, "", ...) when missing or not a JSON object.
  static JsonConfig load(const std::string& path);
  JsonConfig(std::string path, nlohmann::json j) : path_(std::move(path)), j_(std::move(j)) {}

  const std::string& path() const { return path_; }
  const nlohmann::json& json() const { return j_; }
  // A key counts as present unless it is missing or null.
  bool has(const std::string& key) const;

  int64_t get_int(const std::string& key) const;  // required
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_number(const std::string& key) const;
  double get_number(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  // A number or a list of numbers (e.g. eos_token_id); empty when absent.
  std::vector<int64_t> get_int_list(const std::string& key) const;
  // A nested object as its own config (keys reported as "outer.inner"); nullopt when absent.
  std::optional<JsonConfig> get_object(const std::string& key) const;

 private:
  const nlohmann::json& at(const std::string& key) const;
  std::string prefix_;  // "outer." for nested objects
  std::string path_;
  nlohmann::json j_;
};

}  // namespace moeinfer
