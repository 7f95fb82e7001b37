#include "convert/tokenizer_export.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/gzip_file.h"
#include "chat/chat_template.h"
#include "tokenizer/hf_tokenizer.h"

namespace moeinfer {

namespace {

using Json = nlohmann::json;

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// The Split regexes of a pre-tokenizer (a Sequence or one Split), in order, and whether a
// ByteLevel step is among them.
void collect_pre(const Json& p, std::vector<std::string>* splits, bool* byte_level) {
  if (!p.is_object()) return;
  const std::string type = p.value("type", "");
  if (type == "Sequence" && p.contains("pretokenizers")) {
    for (const Json& q : p["pretokenizers"]) collect_pre(q, splits, byte_level);
  } else if (type == "Split" && p.contains("pattern") && p["pattern"].is_object() && p["pattern"].contains("Regex")) {
    splits->push_back(p["pattern"]["Regex"].get<std::string>());
  } else if (type == "ByteLevel") {
    *byte_level = true;
    if (p.value("use_regex", true)) splits->push_back("<gpt2 byte-level regex>");
  }
}

// llama.cpp's tokenizer.ggml.pre for the Split patterns of a byte-level BPE tokenizer.json.
std::string pre_name(const std::vector<std::string>& splits) {
  static const std::string kLlama3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
      "\\s+(?!\\S)|\\s+";
  if (splits.size() == 1 && splits[0] == kLlama3) return "llama-bpe";
  if (splits.size() == 3 && splits[0] == "\\p{N}{1,3}" && splits[1].rfind("[\u4e00-\u9fa5", 0) == 0 &&
      splits[2].find("[A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+") != std::string::npos)
    return "deepseek-v3";
  if (splits.size() == 1 && splits[0] == "<gpt2 byte-level regex>") return "gpt-2";
  return "";
}

std::string merge_string(const Json& m) {
  if (m.is_string()) return m.get<std::string>();
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
    return m[0].get<std::string>() + " " + m[1].get<std::string>();
  return "";
}

bool is_byte_token(const std::string& t) {
  return t.size() == 6 && t.rfind("<0x", 0) == 0 && t.back() == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
         std::isxdigit(static_cast<unsigned char>(t[4]));
}

}  // namespace

bool add_hf_tokenizer_to_gguf(GgufStreamWriter* w, const std::string& dir, int64_t n_vocab) {
  std::string file = dir + "/tokenizer.json";
  if (!exists(file)) file += ".gz";
  if (!exists(file)) return false;
  const Json root = Json::parse(read_file_maybe_gzip(file, uint64_t{1} << 30), nullptr, false);
  if (root.is_discarded() || !root.is_object()) throw Error(file, "", "expected a JSON object");
  // The tokenizer as moeinfer loads it: ids of BOS/EOS/end of generation, BOS added or not.
  const std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(dir);
  const Json& model = root.contains("model") ? root["model"] : Json();
  if (!model.is_object() || model.value("type", "BPE") != "BPE" || !model.contains("vocab") || !model.contains("merges"))
    throw Error(file, "model.type", "expected a BPE model (vocab and merges): other tokenizer models have no GGUF form here");

  // Tokens by id: the model's vocabulary, then the added tokens.
  std::map<int64_t, std::string> by_id;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it.value().is_number_integer()) throw Error(file, "model.vocab", "expected integer ids");
    by_id[it.value().get<int64_t>()] = it.key();
  }
  std::map<int64_t, int32_t> added_type;
  if (root.contains("added_tokens") && root["added_tokens"].is_array())
    for (const Json& a : root["added_tokens"]) {
      const int64_t id = a.value("id", int64_t{-1});
      if (id < 0 || !a.contains("content") || !a["content"].is_string()) throw Error(file, "added_tokens", "expected {id, content}");
      by_id[id] = a["content"].get<std::string>();
      added_type[id] = a.value("special", false) ? 3 : 4;  // control : user-defined
    }
  const int64_t n_tok = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
  if (n_tok > n_vocab)
    throw Error(file, "model.vocab",
                "the tokenizer has " + std::to_string(n_tok) + " token ids, more than the model's " +
                    std::to_string(n_vocab) + " embeddings");
  std::vector<std::string> tokens(static_cast<size_t>(n_vocab));
  std::vector<int32_t> types(static_cast<size_t>(n_vocab), 1);
  for (int64_t i = 0; i < n_vocab; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";
      types[static_cast<size_t>(i)] = 5;  // unused
      continue;
    }
    tokens[static_cast<size_t>(i)] = it->second;
    if (auto a = added_type.find(i); a != added_type.end()) types[static_cast<size_t>(i)] = a->second;
  }

  std::vector<std::string> splits;
  bool byte_level = false;
  if (root.contains("pre_tokenizer")) collect_pre(root["pre_tokenizer"], &splits, &byte_level);
  const bool byte_fallback = model.value("byte_fallback", false);
  if (byte_level) {
    const std::string pre = pre_name(splits);
    if (pre.empty())
      throw Error(file, "pre_tokenizer",
                  "this byte-level pre-tokenizer (" + std::to_string(splits.size()) +
                      " Split patterns) matches none of the GGUF pre-tokenizer types written here (llama-bpe, "
                      "deepseek-v3, gpt-2)");
    std::vector<std::string> merges;
    for (const Json& m : model["merges"]) {
      std::string s = merge_string(m);
      if (s.empty()) throw Error(file, "model.merges", "expected \"a b\" strings or [a, b] pairs");
      merges.push_back(std::move(s));
    }
    w->add_string("tokenizer.ggml.model", "gpt2");
    w->add_string("tokenizer.ggml.pre", pre);
    w->add_strings("tokenizer.ggml.tokens", tokens);
    w->add_int32s("tokenizer.ggml.token_type", types);
    w->add_strings("tokenizer.ggml.merges", merges);
  } else if (byte_fallback) {
    // SentencePiece-style: spaces as '▁' (a Prepend/Replace normalizer or a Metaspace step)
    const std::string norm = root.contains("normalizer") ? root["normalizer"].dump() : "";
    const std::string pre = root.contains("pre_tokenizer") ? root["pre_tokenizer"].dump() : "";
    if (norm.find("\u2581") == std::string::npos && pre.find("Metaspace") == std::string::npos)
      throw Error(file, "normalizer", "expected SentencePiece-style spaces ('\u2581') for a byte-fallback BPE vocabulary");
    const bool prefix_space = norm.find("Prepend") != std::string::npos || pre.find("\"prepend_scheme\":\"always\"") != std::string::npos ||
                              pre.find("\"prepend_scheme\":\"first\"") != std::string::npos ||
                              pre.find("\"add_prefix_space\":true") != std::string::npos;
    // Scores for llama.cpp's merge loop (the adjacent pair whose concatenation is the piece with the
    // highest score): minus the rank of the first merge that makes the piece, so that it merges in
    // the order of HF's merges; pieces no merge makes come last, by id.
    std::map<std::string, int64_t> rank;
    int64_t n_merges = 0;
    for (const Json& m : model["merges"]) {
      const std::string ms = merge_string(m);
      const size_t sp = ms.find(' ');
      if (sp == std::string::npos) throw Error(file, "model.merges", "expected \"a b\" strings or [a, b] pairs");
      rank.emplace(ms.substr(0, sp) + ms.substr(sp + 1), n_merges++);
    }
    std::vector<float> scores(static_cast<size_t>(n_vocab), 0.0f);
    const std::string unk = model.contains("unk_token") && model["unk_token"].is_string() ? model["unk_token"].get<std::string>() : "";
    for (int64_t i = 0; i < n_vocab; ++i) {
      const size_t k = static_cast<size_t>(i);
      if (types[k] == 1 && is_byte_token(tokens[k])) types[k] = 6;
      if (!unk.empty() && tokens[k] == unk) types[k] = 2;
      if (types[k] != 1) continue;
      auto r = rank.find(tokens[k]);
      scores[k] = -static_cast<float>(r != rank.end() ? r->second : n_merges + i);
    }
    w->add_string("tokenizer.ggml.model", "llama");
    w->add_string("tokenizer.ggml.pre", "default");
    w->add_strings("tokenizer.ggml.tokens", tokens);
    w->add_float32s("tokenizer.ggml.scores", scores);
    w->add_int32s("tokenizer.ggml.token_type", types);
    w->add_bool("tokenizer.ggml.add_space_prefix", prefix_space);
    if (!unk.empty())
      for (int64_t i = 0; i < n_vocab; ++i)
        if (tokens[static_cast<size_t>(i)] == unk) w->add_uint32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(i));
  } else {
    throw Error(file, "pre_tokenizer",
                "expected a byte-level BPE (a ByteLevel pre-tokenizer) or a SentencePiece-style BPE with byte fallback");
  }
  if (tok->bos_id() >= 0) w->add_uint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tok->bos_id()));
  if (tok->eos_id() >= 0) w->add_uint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tok->eos_id()));
  w->add_bool("tokenizer.ggml.add_bos_token", tok->add_bos());
  w->add_bool("tokenizer.ggml.add_eos_token", false);
  // More end-of-generation ids (Llama 3.1: <|eot_id|>, <|eom_id|>) as eot and eom.
  std::vector<int32_t> extra;
  for (int32_t id : tok->eog_ids())
    if (id != tok->eos_id()) extra.push_back(id);
  if (extra.size() > 2) throw Error(dir, "eos_token_id", "more end-of-generation ids than GGUF's eos, eot and eom");
  if (!extra.empty()) w->add_uint32("tokenizer.ggml.eot_token_id", static_cast<uint32_t>(extra[0]));
  if (extra.size() > 1) w->add_uint32("tokenizer.ggml.eom_token_id", static_cast<uint32_t>(extra[1]));
  try {
    w->add_string("tokenizer.chat_template", ChatTemplate::from_tokenizer_config(dir).source());
  } catch (const ChatTemplateError&) {
    throw;
  } catch (const Error&) {
    // no chat template in the directory
  }
  return true;
}

}  // namespace moeinfer
