// tokenizer.json "decoder": token strings -> text, as HF `decode(skip_special_tokens=false)`.
// Each step maps the list of pieces to a new list (HF decode_chain); the result is their
// concatenation. Supported steps:
//  - ByteLevel: all pieces -> one; each piece's characters mapped back to bytes (a piece with a
//    character outside the alphabet, or an added token, contributes its own UTF-8 bytes), then
//    invalid UTF-8 replaced by U+FFFD (maximal subparts, like Rust's from_utf8_lossy);
//  - ByteFallback: runs of <0xXX> pieces -> their bytes when valid UTF-8, else one U+FFFD per byte;
//  - Replace {pattern String|Regex, content}; Fuse; Strip {content, start, stop};
//  - Metaspace {replacement, prepend_scheme/add_prefix_space}: replacement -> ' ', and in the first
//    piece the replacement is dropped unless the scheme is never; BPEDecoder {suffix}; Sequence.
// Without a decoder, pieces are joined with ' '.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/pcre_regex.h"

namespace moeinfer {

struct DecodePiece {
  std::string text;
  bool added = false;  // an added token's content (kept verbatim by ByteLevel)
};

class Decoder {
 public:
  Decoder() = default;
  static std::unique_ptr<Decoder> from_json(const nlohmann::json& j, const std::string& file,
                                            const std::string& path);
  void add_byte_level();

  std::string decode(std::vector<DecodePiece> pieces) const;
  // The bytes one token contributes when streaming: like decode of that token alone, but bytes are
  // not repaired into UTF-8, and nothing is stripped at the start of the text.
  std::string piece_bytes(DecodePiece piece) const;

 private:
  struct Step {
    enum Kind { kByteLevel, kByteFallback, kReplace, kFuse, kStrip, kMetaspace, kBpeSuffix } kind = kByteLevel;
    std::string a, b;              // Replace: literal a -> b; Strip: a = content char; Metaspace: a
    std::shared_ptr<Regex> regex;  // Replace with a Regex pattern
    int64_t start = 0, stop = 0;   // Strip
    bool prepend = true;           // Metaspace: prepend scheme is not "never"
    static Step of(Kind k, std::string a = "", std::string b = "") {
      Step s;
      s.kind = k;
      s.a = std::move(a);
      s.b = std::move(b);
      return s;
    }
  };
  explicit Decoder(std::vector<Step> steps) : steps_(std::move(steps)) {}
  void parse(const nlohmann::json& j, const std::string& file, const std::string& path);
  std::vector<Step> steps_;
};

}  // namespace moeinfer
