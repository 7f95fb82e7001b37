#include "tokenizer/hf_normalizer.h"

#include "base/error.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/unicode_text.h"

namespace moeinfer {

using hfjson::Json;

std::unique_ptr<Normalizer> Normalizer::from_json(const Json& j, const std::string& file, const std::string& path) {
  auto n = std::make_unique<Normalizer>();
  n->parse(j, file, path);
  return n;
}

void Normalizer::parse(const Json& j, const std::string& file, const std::string& path) {
  if (!j.is_object()) throw Error(file, path, "expected an object, got " + std::string(j.type_name()));
  const std::string type = hfjson::require_string(j, "type", file, path);
  if (type == "Sequence") {
    const Json& list = hfjson::require(j, "normalizers", file, path);
    if (!list.is_array()) throw Error(file, path + ".normalizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse(list[i], file, path + ".normalizers[" + std::to_string(i) + "]");
  } else if (type == "Prepend") {
    steps_.push_back(Step::of(Step::kPrepend, hfjson::require_string(j, "prepend", file, path)));
  } else if (type == "Replace") {
    hfjson::Pattern p = hfjson::get_pattern(j, file, path);
    Step s = Step::of(Step::kReplace, p.text, hfjson::require_string(j, "content", file, path));
    if (p.is_regex) s.regex = std::make_shared<Regex>(p.text, RegexDialect::kOniguruma, file, path + ".pattern");
    else if (p.text.empty()) throw Error(file, path + ".pattern", "expected a non-empty string");
    steps_.push_back(std::move(s));
  } else if (type == "Strip") {
    Step s = Step::of(Step::kStrip);
    s.left = hfjson::get_bool(j, "strip_left", file, path, true);
    s.right = hfjson::get_bool(j, "strip_right", file, path, true);
    steps_.push_back(std::move(s));
  } else {
    throw Error(file, path + ".type",
                "expected a supported normalizer (Sequence, Prepend, Replace, Strip), got '" + type + "'");
  }
}

void Normalizer::add_prepend(const std::string& prefix) { steps_.push_back(Step::of(Step::kPrepend, prefix)); }

void Normalizer::add_replace(const std::string& from, const std::string& to) {
  steps_.push_back(Step::of(Step::kReplace, from, to));
}

void Normalizer::apply(std::string* s) const {
  for (const Step& st : steps_) {
    switch (st.kind) {
      case Step::kPrepend:
        if (!s->empty()) s->insert(0, st.a);
        break;
      case Step::kReplace: {
        std::string out;
        size_t last = 0;
        if (st.regex) {
          st.regex->for_each_match(*s, [&](size_t b, size_t e) {
            out.append(*s, last, b - last);
            out += st.b;
            last = e;
          });
        } else {
          for (size_t p = s->find(st.a); p != std::string::npos; p = s->find(st.a, last)) {
            out.append(*s, last, p - last);
            out += st.b;
            last = p + st.a.size();
          }
        }
        if (last == 0 && out.empty()) break;  // nothing replaced
        out.append(*s, last, std::string::npos);
        *s = std::move(out);
        break;
      }
      case Step::kStrip: {
        size_t b = 0, e = s->size();
        if (st.left)
          while (b < e && is_white_space(utf8_decode_at(*s, b))) b += utf8_seq_len(*s, b);
        if (st.right)
          while (e > b) {
            const size_t p = utf8_prev_char_start(*s, e);
            if (!is_white_space(utf8_decode_at(*s, p))) break;
            e = p;
          }
        *s = s->substr(b, e - b);
        break;
      }
    }
  }
}

}  // namespace moeinfer
