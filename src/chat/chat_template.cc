#include "chat/chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/jinja_interp.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_pystr.h"
#include "formats/gguf_reader.h"

namespace moeinfer {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSpecialTokenKeys[] = {"bos_token", "eos_token",  "unk_token", "sep_token",
                                             "pad_token", "cls_token", "mask_token"};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::ordered_json read_json_object(const std::string& path) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(read_text(path), nullptr, false);
  if (j.is_discarded()) throw Error(path, "", "expected valid JSON");
  if (!j.is_object()) throw Error(path, "", "expected a JSON object");
  return j;
}

// A special token as tokenizer_config.json writes it: a string, an AddedToken object
// {"content": ...}, or null (unset).
std::optional<std::string> token_text(const std::string& file, const std::string& key, const nlohmann::ordered_json& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  throw Error(file, key, "expected a string or an AddedToken object {\"content\": ...}");
}

// The special-token variables of a tokenizer config, over those already in `tokens`.
void add_special_tokens(const std::string& file, const nlohmann::ordered_json& cfg, nlohmann::ordered_json& tokens) {
  for (const char* key : kSpecialTokenKeys) {
    if (!cfg.contains(key)) continue;
    std::optional<std::string> text = token_text(file, key, cfg[key]);
    if (text && !text->empty()) {
      tokens[key] = *text;
    } else {
      tokens.erase(key);
    }
  }
  if (cfg.contains("additional_special_tokens")) {
    const auto& list = cfg["additional_special_tokens"];
    if (!list.is_null() && !list.is_array())
      throw Error(file, "additional_special_tokens", "expected a list of tokens");
    nlohmann::ordered_json texts = nlohmann::ordered_json::array();
    if (list.is_array())
      for (const auto& t : list)
        if (auto text = token_text(file, "additional_special_tokens", t)) texts.push_back(*text);
    if (texts.empty()) {
      tokens.erase("additional_special_tokens");
    } else {
      tokens["additional_special_tokens"] = texts;
    }
  }
}

// tokenizer_config.json's "chat_template": a string, or a list of {"name", "template"}.
std::optional<std::string> config_template(const std::string& file, const nlohmann::ordered_json& cfg) {
  if (!cfg.contains("chat_template") || cfg["chat_template"].is_null()) return std::nullopt;
  const auto& t = cfg["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {
    std::string names;
    for (const auto& entry : t) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template") ||
          !entry["template"].is_string())
        throw Error(file, "chat_template", "expected a list of {\"name\": ..., \"template\": ...} objects");
      if (entry["name"] == "default") return entry["template"].get<std::string>();
      names += (names.empty() ? "" : ", ") + entry["name"].get<std::string>();
    }
    throw Error(file, "chat_template", "no template named 'default' (templates: " + names + ")");
  }
  throw Error(file, "chat_template", "expected a string or a list of named templates");
}

std::string strftime_text(const std::string& fmt, std::time_t now) {
  if (fmt.empty()) return "";
  std::tm tm{};
  localtime_r(&now, &tm);
  for (size_t size = 256; size <= 65536; size *= 4) {
    std::string buf(size, '\0');
    const size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    if (n > 0) return buf.substr(0, n);
  }
  return "";
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source, std::string file, nlohmann::ordered_json special_tokens)
    : source_(std::move(source)), file_(std::move(file)), special_tokens_(std::move(special_tokens)) {
  if (!special_tokens_.is_object()) special_tokens_ = nlohmann::ordered_json::object();
  if (!jinja::py::valid_utf8(source_)) throw ChatTemplateError(file_, "the template is not valid UTF-8", false);
  try {
    program_ = jinja::parse(source_);
  } catch (const jinja::Error& e) {
    throw ChatTemplateError(file_, "line " + std::to_string(e.line()) + ": " + e.what(), false);
  }
}

ChatTemplate ChatTemplate::load(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return from_tokenizer_config(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "cannot open (expected a GGUF file, a tokenizer_config.json or a model folder)");
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::string(magic, 4) == "GGUF") {
    std::unique_ptr<GgufFile> g = GgufFile::open(path);
    return from_gguf(*g);
  }
  return from_tokenizer_config(path);
}

ChatTemplate ChatTemplate::from_tokenizer_config(const std::string& path_or_dir) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(path_or_dir, ec);
  const fs::path dir = is_dir ? fs::path(path_or_dir) : fs::path(path_or_dir).parent_path();
  const std::string config_path = is_dir ? (dir / "tokenizer_config.json").string() : path_or_dir;
  if (is_dir && !fs::exists(config_path, ec))
    throw Error(path_or_dir, "", "no tokenizer_config.json in this folder");
  const nlohmann::ordered_json cfg = read_json_object(config_path);

  nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
  add_special_tokens(config_path, cfg, tokens);
  const std::string map_path = (dir / "special_tokens_map.json").string();
  if (is_dir && fs::exists(map_path, ec)) add_special_tokens(map_path, read_json_object(map_path), tokens);

  const std::string jinja_path = (dir / "chat_template.jinja").string();
  const std::string json_path = (dir / "chat_template.json").string();
  std::optional<std::string> source;
  std::string source_file = config_path;
  if (is_dir && fs::exists(jinja_path, ec)) {
    source = read_text(jinja_path);
    source_file = jinja_path;
  }
  if (!source) source = config_template(config_path, cfg);
  if (!source && fs::exists(json_path, ec)) {
    source = config_template(json_path, read_json_object(json_path));
    source_file = json_path;
  }
  if (!source && !is_dir && fs::exists(jinja_path, ec)) {
    source = read_text(jinja_path);
    source_file = jinja_path;
  }
  if (!source) throw Error(config_path, "chat_template", "missing: this tokenizer has no chat template");
  return ChatTemplate(std::move(*source), source_file, std::move(tokens));
}

ChatTemplate ChatTemplate::from_gguf(const GgufFile& g) {
  const std::string key = "tokenizer.chat_template";
  if (!g.has(key)) throw Error(g.path(), key, "missing: this model has no chat template");
  std::string source = g.get_string(key);
  nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
  if (g.has("tokenizer.ggml.tokens")) {
    const std::vector<std::string>& strs = g.get_array("tokenizer.ggml.tokens", GgufType::kString).strs;
    const std::pair<const char*, const char*> ids[] = {
        {"tokenizer.ggml.bos_token_id", "bos_token"},     {"tokenizer.ggml.eos_token_id", "eos_token"},
        {"tokenizer.ggml.unknown_token_id", "unk_token"}, {"tokenizer.ggml.seperator_token_id", "sep_token"},
        {"tokenizer.ggml.padding_token_id", "pad_token"},
    };
    for (const auto& [id_key, var] : ids) {
      const GgufValue* v = g.find(id_key);
      if (!v) continue;
      if (!v->is_integer()) throw Error(g.path(), id_key, "expected an integer token id");
      const bool is_signed = v->type == GgufType::kInt8 || v->type == GgufType::kInt16 ||
                             v->type == GgufType::kInt32 || v->type == GgufType::kInt64;
      if (is_signed && v->i < 0) continue;  // "no such token"
      const uint64_t id = is_signed ? static_cast<uint64_t>(v->i) : v->u;
      if (id >= strs.size()) continue;
      if (jinja::py::valid_utf8(strs[id])) tokens[var] = strs[id];
    }
  }
  return ChatTemplate(std::move(source), g.path(), std::move(tokens));
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, bool add_generation_prompt) const {
  ChatRenderOptions options;
  options.add_generation_prompt = add_generation_prompt;
  return render(messages, options);
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const ChatRenderOptions& options) const {
  using namespace jinja;
  auto globals = std::make_shared<Scope>(nullptr);
  add_default_globals(*globals);
  globals->set("raise_exception", make_function("raise_exception", [](Interp&, CallArgs& args) -> Value {
                 ArgBinder a("raise_exception", args, {"message"});
                 throw RaisedError(to_str(a.get(0)));
               }));
  const std::time_t now = options.now ? *options.now : std::time(nullptr);
  globals->set("strftime_now", make_function("strftime_now", [now](Interp&, CallArgs& args) -> Value {
                 ArgBinder a("strftime_now", args, {"format"});
                 if (!a.get(0).is_string()) throw RenderError("strftime() argument 1 must be str");
                 return Value::string(strftime_text(a.get(0).as_string(), now));
               }));
  auto vars = std::make_shared<Scope>(globals);
  try {
    vars->set("messages", from_json(messages));
    vars->set("tools", Value::none());
    vars->set("documents", Value::none());
    vars->set("add_generation_prompt", Value::boolean(options.add_generation_prompt));
    for (auto it = special_tokens_.begin(); it != special_tokens_.end(); ++it) vars->set(it.key(), from_json(it.value()));
    if (options.variables.is_object())
      for (auto it = options.variables.begin(); it != options.variables.end(); ++it)
        vars->set(it.key(), from_json(it.value()));
    Limits limits;
    limits.max_steps = options.max_steps;
    limits.max_size = options.max_output_bytes;
    Interp interp(limits);
    return interp.render(*program_, vars);
  } catch (const RaisedError& e) {
    throw ChatTemplateError(file_, e.what(), true);
  } catch (const jinja::Error& e) {
    const std::string where = e.line() > 0 ? "line " + std::to_string(e.line()) + ": " : "";
    throw ChatTemplateError(file_, where + e.what(), false);
  }
}

}  // namespace moeinfer
