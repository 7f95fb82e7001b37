#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>

#include "base/utf8.h"

namespace moeinfer {

BpeTokenizer::BpeTokenizer(BpeTokenizerParts parts) : p_(std::move(parts)) {
  int32_t max_id = -1;
  for (const auto& [text, id] : p_.model->vocab()) max_id = std::max(max_id, id);
  for (const AddedToken& t : p_.added.tokens()) max_id = std::max(max_id, t.id);
  id_text_.resize(static_cast<size_t>(std::max<int64_t>(max_id + 1, p_.n_vocab)));
  id_kind_.assign(id_text_.size(), Kind::kNone);
  for (const auto& [text, id] : p_.model->vocab()) {
    id_text_[id] = text;
    id_kind_[id] = Kind::kModel;
  }
  for (const AddedToken& t : p_.added.tokens()) {
    id_text_[t.id] = t.content;
    id_kind_[t.id] = t.special ? Kind::kAddedSpecial : Kind::kAdded;
  }
  eog_ = p_.eog;
  eog_.push_back(p_.eos);
  std::erase_if(eog_, [&](int32_t id) { return id < 0 || static_cast<size_t>(id) >= id_text_.size(); });
  std::sort(eog_.begin(), eog_.end());
  eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());
}

const std::string& BpeTokenizer::token_text(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || static_cast<size_t>(id) >= id_text_.size()) return kEmpty;
  return id_text_[id];
}

std::vector<int32_t> BpeTokenizer::encode(const std::string& raw, bool add_special, bool parse_special) const {
  const std::string text = utf8_sanitize(raw);
  std::vector<int32_t> out;
  if (add_special) out = p_.post.prefix;
  std::vector<std::string> words;
  std::string piece;
  for (const TextPiece& tp : p_.added.split(text, parse_special)) {
    if (tp.id >= 0) {
      out.push_back(tp.id);
      continue;
    }
    piece.assign(text, tp.begin, tp.end - tp.begin);
    if (p_.normalizer) p_.normalizer->apply(&piece);
    if (piece.empty()) continue;
    words.clear();
    if (p_.pre_tokenizer) p_.pre_tokenizer->split(piece, tp.begin == 0, &words);
    else words.push_back(piece);
    for (const std::string& w : words) p_.model->encode_word(w, &out);
  }
  if (add_special) out.insert(out.end(), p_.post.suffix.begin(), p_.post.suffix.end());
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::vector<DecodePiece> pieces;
  pieces.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= id_text_.size() || id_kind_[id] == Kind::kNone) continue;
    pieces.push_back({id_text_[id], id_kind_[id] == Kind::kAdded || id_kind_[id] == Kind::kAddedSpecial});
  }
  if (p_.decoder) return p_.decoder->decode(std::move(pieces));
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i) out += ' ';
    out += pieces[i].text;
  }
  return out;
}

std::string BpeTokenizer::token_to_piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_text_.size()) return "";
  switch (id_kind_[id]) {
    case Kind::kNone:
    case Kind::kAddedSpecial:
      return "";
    case Kind::kAdded:
      return id_text_[id];
    case Kind::kModel:
      break;
  }
  if (!p_.decoder) return id_text_[id];
  return p_.decoder->piece_bytes({id_text_[id], false});
}

}  // namespace moeinfer
