#include "tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "base/gzip_file.h"
#include "formats/gguf_reader.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/hf_json.h"

namespace moeinfer {

using hfjson::Json;
namespace fs = std::filesystem;

namespace {

// Ids may leave holes, but the largest id must stay below (number of tokens + this gap): this
// bounds the id -> token table a hostile file can make us allocate.
constexpr int64_t kMaxIdGap = int64_t{1} << 20;

// The largest tokenizer file read (decompressed): real ones are tens of megabytes; a small gzip
// member can inflate to gigabytes.
constexpr uint64_t kMaxTokenizerBytes = uint64_t{256} << 20;

Json parse_json_file(const std::string& path) {
  const std::string text = read_file_maybe_gzip(path, kMaxTokenizerBytes);
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {  // parse errors, and numbers out of range (out_of_range.406)
    throw Error(path, "", std::string("expected valid JSON: ") + e.what());
  }
}

std::unique_ptr<BpeModel> parse_model(const Json& m, const std::string& file) {
  if (!m.is_object()) throw Error(file, "model", "expected an object");
  const std::string type = hfjson::get_string(m, "type", file, "model", "BPE");
  if (type != "BPE")
    throw Error(file, "model.type", "expected \"BPE\" (the only model type supported), got '" + type + "'");
  const Json& vj = hfjson::require(m, "vocab", file, "model");
  if (!vj.is_object()) throw Error(file, "model.vocab", "expected an object of token -> id");
  Vocab vocab;
  vocab.reserve(vj.size());
  for (auto it = vj.begin(); it != vj.end(); ++it)
    vocab[it.key()] = hfjson::to_token_id(it.value(), file, "model.vocab[\"" + it.key() + "\"]");

  std::vector<std::pair<std::string, std::string>> merges;
  if (const Json* mj = hfjson::member(m, "merges")) {
    if (!mj->is_array()) throw Error(file, "model.merges", "expected an array");
    merges.reserve(mj->size());
    for (size_t i = 0; i < mj->size(); ++i) {
      const Json& e = (*mj)[i];
      const std::string field = "model.merges[" + std::to_string(i) + "]";
      if (e.is_string()) {
        const std::string& s = e.get_ref<const std::string&>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos)
          throw Error(file, field, "expected two tokens separated by a space, got '" + s + "'");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        throw Error(file, field, "expected \"a b\" or [\"a\", \"b\"], got " + e.dump().substr(0, 80));
      }
    }
  }
  BpeOptions o;
  o.byte_fallback = hfjson::get_bool(m, "byte_fallback", file, "model", false);
  o.ignore_merges = hfjson::get_bool(m, "ignore_merges", file, "model", false);
  o.fuse_unk = hfjson::get_bool(m, "fuse_unk", file, "model", false);
  o.unk_token = hfjson::get_string(m, "unk_token", file, "model", "");
  o.continuing_subword_prefix = hfjson::get_string(m, "continuing_subword_prefix", file, "model", "");
  o.end_of_word_suffix = hfjson::get_string(m, "end_of_word_suffix", file, "model", "");
  return std::make_unique<BpeModel>(std::move(vocab), merges, std::move(o), /*strict=*/true, file);
}

std::vector<AddedToken> parse_added_tokens(const Json& root, const std::string& file) {
  std::vector<AddedToken> out;
  const Json* list = hfjson::member(root, "added_tokens");
  if (!list) return out;
  if (!list->is_array()) throw Error(file, "added_tokens", "expected an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& a = (*list)[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    if (!a.is_object()) throw Error(file, path, "expected an object");
    AddedToken t;
    t.id = hfjson::to_token_id(hfjson::require(a, "id", file, path), file, path + ".id");
    t.content = hfjson::require_string(a, "content", file, path);
    t.special = hfjson::get_bool(a, "special", file, path, false);
    t.lstrip = hfjson::get_bool(a, "lstrip", file, path, false);
    t.rstrip = hfjson::get_bool(a, "rstrip", file, path, false);
    t.single_word = hfjson::get_bool(a, "single_word", file, path, false);
    t.normalized = hfjson::get_bool(a, "normalized", file, path, !t.special);
    if (t.content.empty()) continue;  // HF ignores empty added tokens
    out.push_back(std::move(t));
  }
  return out;
}

// Looks a token string up among added tokens first, then the model's vocabulary.
int32_t token_id(const AddedTokens& added, const BpeModel& model, const std::string& s) {
  if (const AddedToken* t = added.by_content(s)) return t->id;
  return model.find(s);
}

void parse_post_processor(const Json& p, const std::string& file, const std::string& path, PostProcessor* post) {
  if (!p.is_object()) throw Error(file, path, "expected an object");
  const std::string type = hfjson::require_string(p, "type", file, path);
  PostProcessor mine;
  if (type == "Sequence") {
    const Json& list = hfjson::require(p, "processors", file, path);
    if (!list.is_array()) throw Error(file, path + ".processors", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_post_processor(list[i], file, path + ".processors[" + std::to_string(i) + "]", post);
    return;
  } else if (type == "ByteLevel") {
    return;  // offsets only
  } else if (type == "TemplateProcessing") {
    const Json* specials = hfjson::member(p, "special_tokens");
    auto special_ids = [&](const std::string& name, const std::string& field) {
      const Json* st = specials ? hfjson::member(*specials, name.c_str()) : nullptr;
      const Json* ids = st ? hfjson::member(*st, "ids") : nullptr;
      if (!ids || !ids->is_array())
        throw Error(file, field, "expected '" + name + "' to be listed in " + path + ".special_tokens with its ids");
      std::vector<int32_t> v;
      for (const Json& id : *ids) v.push_back(hfjson::to_token_id(id, file, path + ".special_tokens." + name));
      return v;
    };
    const Json& single = hfjson::require(p, "single", file, path);
    bool seen_sequence = false;
    auto add_special = [&](const std::string& name, const std::string& field) {
      std::vector<int32_t> ids = special_ids(name, field);
      std::vector<int32_t>& dst = seen_sequence ? mine.suffix : mine.prefix;
      dst.insert(dst.end(), ids.begin(), ids.end());
    };
    if (single.is_array()) {
      for (size_t i = 0; i < single.size(); ++i) {
        const std::string field = path + ".single[" + std::to_string(i) + "]";
        if (const Json* s = hfjson::member(single[i], "SpecialToken")) {
          add_special(hfjson::require_string(*s, "id", file, field + ".SpecialToken"), field);
        } else if (hfjson::member(single[i], "Sequence")) {
          seen_sequence = true;
        } else {
          throw Error(file, field, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
        }
      }
    } else if (single.is_string()) {  // "<s>:0 $A:0" shorthand
      const std::string s = single.get<std::string>();
      size_t i = 0;
      while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ') ++j;
        if (j == i) break;
        std::string item = s.substr(i, j - i);
        i = j;
        if (item[0] == '$') {
          seen_sequence = true;
          continue;
        }
        const size_t colon = item.rfind(':');
        if (colon != std::string::npos && colon + 1 < item.size() &&
            item.find_first_not_of("0123456789", colon + 1) == std::string::npos)
          item.resize(colon);
        add_special(item, path + ".single");
      }
    } else {
      throw Error(file, path + ".single", "expected an array or a string");
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    auto pair_id = [&](const char* key) {
      const Json& v = hfjson::require(p, key, file, path);
      if (!v.is_array() || v.size() != 2) throw Error(file, path + "." + key, "expected [token, id]");
      return hfjson::to_token_id(v[1], file, path + "." + key);
    };
    mine.prefix.push_back(pair_id("cls"));
    mine.suffix.push_back(pair_id("sep"));
  } else {
    throw Error(file, path + ".type",
                "expected a supported post-processor (TemplateProcessing, BertProcessing, RobertaProcessing, "
                "ByteLevel, Sequence), got '" + type + "'");
  }
  // A later processor wraps what the earlier ones produced.
  mine.prefix.insert(mine.prefix.end(), post->prefix.begin(), post->prefix.end());
  mine.suffix.insert(mine.suffix.begin(), post->suffix.begin(), post->suffix.end());
  *post = std::move(mine);
}

// tokenizer_config.json token fields are a string or an AddedToken object {"content": ...}.
std::string config_token(const Json& cfg, const char* key, const std::string& file) {
  const Json* v = hfjson::member(cfg, key);
  if (!v) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object()) return hfjson::get_string(*v, "content", file, key, "");
  throw Error(file, key, "expected a string or an object with \"content\"");
}

// Appends the eos_token_id of a model's config.json or generation_config.json (when the file
// exists): an integer, a list of integers, or null. Negative values ("none") are skipped; ids the
// vocabulary lacks are dropped later by BpeTokenizer.
void add_config_eos_ids(const fs::path& path, std::vector<int32_t>* out) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return;
  const std::string file = path.string();
  const Json cfg = parse_json_file(file);
  if (!cfg.is_object()) throw Error(file, "", "expected a JSON object");
  const Json* v = hfjson::member(cfg, "eos_token_id");
  if (!v) return;
  std::vector<const Json*> items;
  if (v->is_array()) {
    for (const Json& e : *v) items.push_back(&e);
  } else {
    items.push_back(v);
  }
  for (const Json* e : items) {
    if (!e->is_number_integer())
      throw Error(file, "eos_token_id", "expected an integer or a list of integers, got " + v->dump().substr(0, 80));
    if (!e->is_number_unsigned() && e->get<int64_t>() < 0) continue;
    const uint64_t id = e->get<uint64_t>();
    if (id < static_cast<uint64_t>(INT32_MAX)) out->push_back(static_cast<int32_t>(id));  // else no vocabulary has it
  }
}

fs::path resolve_tokenizer_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const char* name : {"tokenizer.json", "tokenizer.json.gz"}) {
      fs::path f = fs::path(path) / name;
      if (fs::is_regular_file(f, ec)) return f;
    }
    throw Error(path, "", "expected a directory holding tokenizer.json, but there is none");
  }
  if (!fs::exists(path, ec)) throw Error(path, "", "no such file or directory");
  return fs::path(path);
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path) {
  const fs::path tf = resolve_tokenizer_file(path);
  const std::string file = tf.string();
  const Json root = parse_json_file(file);
  if (!root.is_object()) throw Error(file, "", "expected a JSON object");

  BpeTokenizerParts parts;
  parts.model = parse_model(hfjson::require(root, "model", file, "tokenizer"), file);
  std::vector<AddedToken> added = parse_added_tokens(root, file);

  // Bound the ids before anything allocates tables indexed by them.
  int64_t max_id = -1;
  for (const auto& [text, id] : parts.model->vocab()) max_id = std::max<int64_t>(max_id, id);
  for (const AddedToken& t : added) max_id = std::max<int64_t>(max_id, t.id);
  const int64_t n_tokens = static_cast<int64_t>(parts.model->vocab().size() + added.size());
  if (max_id >= n_tokens + kMaxIdGap)
    throw Error(file, "model.vocab",
                "expected token ids below " + std::to_string(n_tokens + kMaxIdGap) + " (the file has " +
                    std::to_string(n_tokens) + " tokens), got id " + std::to_string(max_id));
  parts.added = AddedTokens(std::move(added));

  if (const Json* n = hfjson::member(root, "normalizer")) parts.normalizer = Normalizer::from_json(*n, file, "normalizer");
  if (const Json* p = hfjson::member(root, "pre_tokenizer"))
    parts.pre_tokenizer = PreTokenizer::from_json(*p, file, "pre_tokenizer");
  if (const Json* d = hfjson::member(root, "decoder")) parts.decoder = Decoder::from_json(*d, file, "decoder");
  if (const Json* p = hfjson::member(root, "post_processor"))
    parse_post_processor(*p, file, "post_processor", &parts.post);

  // tokenizer_config.json beside it.
  const fs::path cfg_path = tf.parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (fs::is_regular_file(cfg_path, ec)) {
    const std::string cfile = cfg_path.string();
    const Json cfg = parse_json_file(cfile);
    if (!cfg.is_object()) throw Error(cfile, "", "expected a JSON object");
    auto lookup = [&](const char* key) -> int32_t {
      const std::string s = config_token(cfg, key, cfile);
      if (s.empty()) return -1;
      const int32_t id = token_id(parts.added, *parts.model, s);
      if (id < 0) throw Error(cfile, key, "expected a token of the tokenizer, got '" + s + "'");
      return id;
    };
    parts.bos = lookup("bos_token");
    parts.eos = lookup("eos_token");
    static const char* kLlamaClasses[] = {"LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer",
                                          "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast"};
    const std::string cls = hfjson::get_string(cfg, "tokenizer_class", cfile, "tokenizer_config", "");
    if (std::find(std::begin(kLlamaClasses), std::end(kLlamaClasses), cls) != std::end(kLlamaClasses)) {
      const bool add_bos = hfjson::get_bool(cfg, "add_bos_token", cfile, "tokenizer_config", true);
      const bool add_eos = hfjson::get_bool(cfg, "add_eos_token", cfile, "tokenizer_config", false);
      if ((add_bos && parts.bos < 0) || (add_eos && parts.eos < 0))
        throw Error(cfile, add_bos && parts.bos < 0 ? "bos_token" : "eos_token",
                    "expected a token, since add_" + std::string(add_bos && parts.bos < 0 ? "bos" : "eos") +
                        "_token is set");
      parts.post = PostProcessor{};
      if (add_bos) parts.post.prefix.push_back(parts.bos);
      if (add_eos) parts.post.suffix.push_back(parts.eos);
    }
  }
  if (parts.bos < 0 && !parts.post.prefix.empty()) parts.bos = parts.post.prefix.front();
  // The model's end-of-generation ids beside the tokenizer's eos (Llama 3.1 instruct lists
  // <|end_of_text|>, <|eom_id|> and <|eot_id|> in generation_config.json).
  add_config_eos_ids(tf.parent_path() / "config.json", &parts.eog);
  add_config_eos_ids(tf.parent_path() / "generation_config.json", &parts.eog);

  for (int32_t id : parts.post.prefix)
    if (id > max_id) throw Error(file, "post_processor", "expected token ids of the vocabulary, got " + std::to_string(id));
  for (int32_t id : parts.post.suffix)
    if (id > max_id) throw Error(file, "post_processor", "expected token ids of the vocabulary, got " + std::to_string(id));
  return std::make_unique<BpeTokenizer>(std::move(parts));
}

std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return load_hf_tokenizer(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", fs::exists(path, ec) ? "cannot open" : "no such file or directory");
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::string(magic, 4) == "GGUF") {
    std::unique_ptr<GgufFile> g = GgufFile::open(path);
    std::unique_ptr<Tokenizer> t = make_gguf_tokenizer(*g);
    if (!t) throw Error(path, "tokenizer.ggml.model", "is \"none\": the file has no vocabulary");
    return t;
  }
  return load_hf_tokenizer(path);
}

}  // namespace moeinfer
