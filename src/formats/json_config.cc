#include "formats/json_config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace moeinfer {

JsonConfig JsonConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(path, "", "expected valid JSON");
  if (!j.is_object()) throw Error(path, "", "expected a JSON object");
  return JsonConfig(path, std::move(j));
}

bool JsonConfig::has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }

const nlohmann::json& JsonConfig::at(const std::string& key) const {
  if (!has(key)) throw Error(path_, prefix_ + key, "required key is missing");
  return j_[key];
}

int64_t JsonConfig::get_int(const std::string& key) const {
  const nlohmann::json& v = at(key);
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  throw Error(path_, prefix_ + key, "expected an integer, got " + v.dump());
}

int64_t JsonConfig::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double JsonConfig::get_number(const std::string& key) const {
  const nlohmann::json& v = at(key);
  if (v.is_number()) return v.get<double>();
  throw Error(path_, prefix_ + key, "expected a number, got " + v.dump());
}

double JsonConfig::get_number(const std::string& key, double fallback) const {
  return has(key) ? get_number(key) : fallback;
}

bool JsonConfig::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const nlohmann::json& v = j_[key];
  if (v.is_boolean()) return v.get<bool>();
  throw Error(path_, prefix_ + key, "expected true or false, got " + v.dump());
}

std::string JsonConfig::get_string(const std::string& key) const {
  const nlohmann::json& v = at(key);
  if (v.is_string()) return v.get<std::string>();
  throw Error(path_, prefix_ + key, "expected a string, got " + v.dump());
}

std::string JsonConfig::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::vector<int64_t> JsonConfig::get_int_list(const std::string& key) const {
  std::vector<int64_t> out;
  if (!has(key)) return out;
  const nlohmann::json& v = j_[key];
  if (v.is_number_integer()) {
    out.push_back(v.get<int64_t>());
    return out;
  }
  if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_number_integer()) throw Error(path_, prefix_ + key, "expected integers, got " + v.dump());
      out.push_back(e.get<int64_t>());
    }
    return out;
  }
  throw Error(path_, prefix_ + key, "expected an integer or a list of integers, got " + v.dump());
}

std::optional<JsonConfig> JsonConfig::get_object(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const nlohmann::json& v = j_[key];
  if (!v.is_object()) throw Error(path_, prefix_ + key, "expected an object, got " + v.dump());
  JsonConfig c(path_, v);
  c.prefix_ = prefix_ + key + ".";
  return c;
}

}  // namespace moeinfer
