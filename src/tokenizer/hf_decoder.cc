#include "tokenizer/hf_decoder.h"

#include "base/error.h"
#include "base/utf8.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/unicode_text.h"

namespace moeinfer {

using hfjson::Json;

namespace {

// "<0xXX>" -> the byte, else -1.
int byte_token_value(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

bool valid_utf8(const std::string& s) { return utf8_sanitize(s) == s; }

std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  size_t last = 0;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, last)) {
    out.append(s, last, p - last);
    out += to;
    last = p + from.size();
  }
  out.append(s, last, std::string::npos);
  return out;
}

std::string byte_level_bytes(const DecodePiece& p) {
  if (p.added) return p.text;
  std::string bytes;
  return byte_level_decode(p.text, &bytes) ? bytes : p.text;
}

}  // namespace

std::unique_ptr<Decoder> Decoder::from_json(const Json& j, const std::string& file, const std::string& path) {
  auto d = std::make_unique<Decoder>();
  d->parse(j, file, path);
  return d;
}

void Decoder::add_byte_level() { steps_.push_back(Step::of(Step::kByteLevel)); }

void Decoder::parse(const Json& j, const std::string& file, const std::string& path) {
  if (!j.is_object()) throw Error(file, path, "expected an object, got " + std::string(j.type_name()));
  const std::string type = hfjson::require_string(j, "type", file, path);
  if (type == "Sequence") {
    const Json& list = hfjson::require(j, "decoders", file, path);
    if (!list.is_array()) throw Error(file, path + ".decoders", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) parse(list[i], file, path + ".decoders[" + std::to_string(i) + "]");
  } else if (type == "ByteLevel") {
    add_byte_level();
  } else if (type == "ByteFallback") {
    steps_.push_back(Step::of(Step::kByteFallback));
  } else if (type == "Fuse") {
    steps_.push_back(Step::of(Step::kFuse));
  } else if (type == "Replace") {
    hfjson::Pattern p = hfjson::get_pattern(j, file, path);
    Step s = Step::of(Step::kReplace, p.text, hfjson::require_string(j, "content", file, path));
    if (p.is_regex) s.regex = std::make_shared<Regex>(p.text, RegexDialect::kOniguruma, file, path + ".pattern");
    steps_.push_back(std::move(s));
  } else if (type == "Strip") {
    Step s = Step::of(Step::kStrip, hfjson::require_string(j, "content", file, path));
    if (s.a.empty() || utf8_seq_len(s.a, 0) != s.a.size())
      throw Error(file, path + ".content", "expected one character");
    s.start = hfjson::get_int(j, "start", file, path, 0);
    s.stop = hfjson::get_int(j, "stop", file, path, 0);
    if (s.start < 0 || s.stop < 0) throw Error(file, path, "expected start and stop >= 0");
    steps_.push_back(std::move(s));
  } else if (type == "Metaspace") {
    Step s = Step::of(Step::kMetaspace, hfjson::get_string(j, "replacement", file, path, "\xe2\x96\x81"));
    const std::string scheme = hfjson::get_string(j, "prepend_scheme", file, path, "");
    s.prepend = scheme.empty() ? hfjson::get_bool(j, "add_prefix_space", file, path, true) : scheme != "never";
    steps_.push_back(std::move(s));
  } else if (type == "BPEDecoder") {
    steps_.push_back(Step::of(Step::kBpeSuffix, hfjson::get_string(j, "suffix", file, path, "</w>")));
  } else {
    throw Error(file, path + ".type",
                "expected a supported decoder (Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace, "
                "BPEDecoder), got '" + type + "'");
  }
}

std::string Decoder::decode(std::vector<DecodePiece> pieces) const {
  for (const Step& st : steps_) {
    std::vector<DecodePiece> out;
    switch (st.kind) {
      case Step::kByteLevel: {
        std::string bytes;
        for (const DecodePiece& p : pieces) bytes += byte_level_bytes(p);
        out.push_back({utf8_sanitize(bytes), false});
        break;
      }
      case Step::kByteFallback: {
        std::string run;  // pending bytes of consecutive <0xXX> pieces
        auto flush = [&] {
          if (run.empty()) return;
          if (valid_utf8(run)) {
            out.push_back({run, false});
          } else {
            for (size_t i = 0; i < run.size(); ++i) out.push_back({"\xef\xbf\xbd", false});
          }
          run.clear();
        };
        for (DecodePiece& p : pieces) {
          const int b = byte_token_value(p.text);
          if (b >= 0) {
            run.push_back(static_cast<char>(b));
          } else {
            flush();
            out.push_back(std::move(p));
          }
        }
        flush();
        break;
      }
      case Step::kFuse: {
        DecodePiece all;
        for (const DecodePiece& p : pieces) all.text += p.text;
        out.push_back(std::move(all));
        break;
      }
      case Step::kReplace:
        for (DecodePiece& p : pieces) {
          if (st.regex) {
            std::string r;
            size_t last = 0;
            st.regex->for_each_match(p.text, [&](size_t b, size_t e) {
              r.append(p.text, last, b - last);
              r += st.b;
              last = e;
            });
            r.append(p.text, last, std::string::npos);
            p.text = std::move(r);
          } else {
            p.text = replace_all(p.text, st.a, st.b);
          }
          out.push_back(std::move(p));
        }
        break;
      case Step::kStrip:
        for (DecodePiece& p : pieces) {
          const std::string& t = p.text;
          size_t b = 0, e = t.size();
          for (int64_t k = 0; k < st.start && b < e && t.compare(b, st.a.size(), st.a) == 0; ++k) b += st.a.size();
          for (int64_t k = 0; k < st.stop && e >= b + st.a.size() && t.compare(e - st.a.size(), st.a.size(), st.a) == 0;
               ++k)
            e -= st.a.size();
          out.push_back({t.substr(b, e - b), p.added});
        }
        break;
      case Step::kMetaspace:
        for (size_t i = 0; i < pieces.size(); ++i) {
          const bool drop = i == 0 && st.prepend;
          out.push_back({replace_all(pieces[i].text, st.a, drop ? "" : " "), pieces[i].added});
        }
        break;
      case Step::kBpeSuffix:
        for (size_t i = 0; i < pieces.size(); ++i)
          out.push_back({replace_all(pieces[i].text, st.a, i + 1 == pieces.size() ? "" : " "), pieces[i].added});
        break;
    }
    pieces.swap(out);
  }
  std::string text;
  for (const DecodePiece& p : pieces) text += p.text;
  return text;
}

std::string Decoder::piece_bytes(DecodePiece piece) const {
  for (const Step& st : steps_) {
    switch (st.kind) {
      case Step::kByteLevel:
        piece.text = byte_level_bytes(piece);
        break;
      case Step::kByteFallback: {
        const int b = byte_token_value(piece.text);
        if (b >= 0) piece.text = std::string(1, static_cast<char>(b));
        break;
      }
      case Step::kReplace:
        if (!st.regex) piece.text = replace_all(piece.text, st.a, st.b);
        else piece.text = Decoder{std::vector<Step>{st}}.decode({piece});
        break;
      case Step::kMetaspace:
        piece.text = replace_all(piece.text, st.a, " ");
        break;
      case Step::kBpeSuffix:
        piece.text = replace_all(piece.text, st.a, " ");
        break;
      case Step::kFuse:
      case Step::kStrip:
        break;
    }
  }
  return piece.text;
}

}  // namespace moeinfer
