#include "tokenizer/hf_pretokenizer.h"

#include <algorithm>

#include "base/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/hf_json.h"

namespace moeinfer {

using hfjson::Json;

namespace {

// GPT-2's pattern, used by ByteLevel when use_regex is set.
const char kGpt2Pattern[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

std::shared_ptr<Regex> gpt2_regex() {
  static const std::shared_ptr<Regex> re =
      std::make_shared<Regex>(kGpt2Pattern, RegexDialect::kOniguruma, "", "ByteLevel");
  return re;
}

SplitBehavior parse_behavior(const Json& j, const std::string& file, const std::string& path,
                             SplitBehavior fallback) {
  const std::string b = hfjson::get_string(j, "behavior", file, path, "");
  if (b.empty()) return fallback;
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  throw Error(file, path + ".behavior",
              "expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, got '" + b + "'");
}

struct Range {
  size_t begin, end;
  bool match;
};

}  // namespace

std::unique_ptr<PreTokenizer> PreTokenizer::from_json(const Json& j, const std::string& file,
                                                      const std::string& path) {
  auto p = std::make_unique<PreTokenizer>();
  p->parse(j, file, path);
  return p;
}

void PreTokenizer::add_split(std::shared_ptr<Regex> regex, SplitBehavior behavior, bool invert) {
  Step s = Step::of(Step::kSplit);
  s.regex = std::move(regex);
  s.behavior = behavior;
  s.invert = invert;
  steps_.push_back(std::move(s));
}

void PreTokenizer::add_byte_level(bool add_prefix_space, bool use_regex) {
  Step s = Step::of(Step::kByteLevel);
  s.add_prefix_space = add_prefix_space;
  s.use_regex = use_regex;
  steps_.push_back(std::move(s));
}

void PreTokenizer::parse(const Json& j, const std::string& file, const std::string& path) {
  if (!j.is_object()) throw Error(file, path, "expected an object, got " + std::string(j.type_name()));
  const std::string type = hfjson::require_string(j, "type", file, path);
  auto regex = [&](const std::string& pattern) {
    return std::make_shared<Regex>(pattern, RegexDialect::kOniguruma, file, path + ".pattern");
  };
  if (type == "Sequence") {
    const Json& list = hfjson::require(j, "pretokenizers", file, path);
    if (!list.is_array()) throw Error(file, path + ".pretokenizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse(list[i], file, path + ".pretokenizers[" + std::to_string(i) + "]");
  } else if (type == "Split") {
    hfjson::Pattern p = hfjson::get_pattern(j, file, path);
    Step s = Step::of(p.is_regex ? Step::kSplit : Step::kLiteralSplit);
    if (p.is_regex) s.regex = regex(p.text);
    else s.literal = p.text;
    s.behavior = parse_behavior(j, file, path, SplitBehavior::kIsolated);
    s.invert = hfjson::get_bool(j, "invert", file, path, false);
    steps_.push_back(std::move(s));
  } else if (type == "ByteLevel") {
    add_byte_level(hfjson::get_bool(j, "add_prefix_space", file, path, true),
                   hfjson::get_bool(j, "use_regex", file, path, true));
  } else if (type == "Metaspace") {
    Step s = Step::of(Step::kMetaspace);
    s.literal = hfjson::get_string(j, "replacement", file, path, "\xe2\x96\x81");
    if (s.literal.empty()) throw Error(file, path + ".replacement", "expected one character");
    const std::string scheme = hfjson::get_string(j, "prepend_scheme", file, path, "");
    if (scheme.empty()) s.prepend = hfjson::get_bool(j, "add_prefix_space", file, path, true) ? Step::kAlways : Step::kNever;
    else if (scheme == "always") s.prepend = Step::kAlways;
    else if (scheme == "first") s.prepend = Step::kFirst;
    else if (scheme == "never") s.prepend = Step::kNever;
    else throw Error(file, path + ".prepend_scheme", "expected always, first or never, got '" + scheme + "'");
    s.metaspace_split = hfjson::get_bool(j, "split", file, path, true);
    steps_.push_back(std::move(s));
  } else if (type == "Digits") {
    const bool individual = hfjson::get_bool(j, "individual_digits", file, path, false);
    add_split(regex(individual ? "\\p{N}" : "\\p{N}+"), SplitBehavior::kIsolated, false);
  } else if (type == "Whitespace") {
    add_split(regex("\\w+|[^\\w\\s]+"), SplitBehavior::kRemoved, true);
  } else if (type == "WhitespaceSplit") {
    add_split(regex("\\s+"), SplitBehavior::kRemoved, false);
  } else if (type == "Punctuation") {
    add_split(regex("[\\p{P}!-/:-@\\[-`{-~]"), parse_behavior(j, file, path, SplitBehavior::kIsolated), false);
  } else if (type == "BertPreTokenizer") {
    add_split(regex("\\s+"), SplitBehavior::kRemoved, false);
    add_split(regex("[\\p{P}!-/:-@\\[-`{-~]"), SplitBehavior::kIsolated, false);
  } else {
    throw Error(file, path + ".type",
                "expected a supported pre-tokenizer (Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace, "
                "WhitespaceSplit, Punctuation, BertPreTokenizer), got '" + type + "'");
  }
}

void PreTokenizer::apply_split(const Step& st, std::string_view word, std::vector<std::string>* out) {
  std::vector<Range> ranges;
  size_t prev = 0;
  auto on_match = [&](size_t b, size_t e) {
    if (b > prev) ranges.push_back({prev, b, false});
    ranges.push_back({b, e, true});
    prev = e;
  };
  if (st.kind == Step::kSplit) {
    st.regex->for_each_match(word, on_match);
  } else if (!st.literal.empty()) {
    for (size_t p = word.find(st.literal); p != std::string_view::npos; p = word.find(st.literal, prev))
      on_match(p, p + st.literal.size());
  }
  if (prev < word.size()) ranges.push_back({prev, word.size(), false});
  if (st.invert)
    for (Range& r : ranges) r.match = !r.match;

  // Each output range carries `match` = "remove it" only for kRemoved.
  std::vector<Range> kept;
  kept.reserve(ranges.size());
  bool previous_match = false;
  switch (st.behavior) {
    case SplitBehavior::kRemoved:
      for (const Range& r : ranges)
        if (!r.match) kept.push_back(r);
      break;
    case SplitBehavior::kIsolated:
      kept = ranges;
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Range& r : ranges) {
        if (r.match && !previous_match && !kept.empty()) kept.back().end = r.end;
        else kept.push_back(r);
        previous_match = r.match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (size_t i = ranges.size(); i-- > 0;) {
        const Range& r = ranges[i];
        if (r.match && !previous_match && !kept.empty()) kept.back().begin = r.begin;
        else kept.push_back(r);
        previous_match = r.match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    case SplitBehavior::kContiguous:
      for (const Range& r : ranges) {
        if (r.match == previous_match && !kept.empty()) kept.back().end = r.end;
        else kept.push_back(r);
        previous_match = r.match;
      }
      break;
  }
  for (const Range& r : kept)
    if (r.end > r.begin) out->emplace_back(word.substr(r.begin, r.end - r.begin));
}

void PreTokenizer::split(std::string_view text, bool first_piece, std::vector<std::string>* words) const {
  std::vector<std::string> cur, next;
  cur.emplace_back(text);
  for (const Step& st : steps_) {
    next.clear();
    for (size_t w = 0; w < cur.size(); ++w) {
      const std::string& word = cur[w];
      switch (st.kind) {
        case Step::kSplit:
        case Step::kLiteralSplit:
          apply_split(st, word, &next);
          break;
        case Step::kByteLevel: {
          std::string prefixed;
          std::string_view src = word;
          if (st.add_prefix_space && (word.empty() || word[0] != ' ')) {
            prefixed = " " + word;
            src = prefixed;
          }
          auto emit = [&](size_t b, size_t e) {
            next.emplace_back();
            byte_level_encode(src.substr(b, e - b), &next.back());
          };
          if (st.use_regex) {
            std::vector<std::string> parts;
            Step iso = Step::of(Step::kSplit);
            iso.regex = gpt2_regex();
            apply_split(iso, src, &parts);
            for (const std::string& p : parts) {
              next.emplace_back();
              byte_level_encode(p, &next.back());
            }
          } else if (!src.empty()) {
            emit(0, src.size());
          }
          break;
        }
        case Step::kMetaspace: {
          std::string s;
          s.reserve(word.size() + 8);
          for (char c : word) {
            if (c == ' ') s += st.literal;
            else s += c;
          }
          const bool prepend = st.prepend == Step::kAlways || (st.prepend == Step::kFirst && first_piece && w == 0);
          if (prepend && s.compare(0, st.literal.size(), st.literal) != 0) s.insert(0, st.literal);
          if (st.metaspace_split) {
            Step lit = Step::of(Step::kLiteralSplit);
            lit.literal = st.literal;
            lit.behavior = SplitBehavior::kMergedWithNext;
            apply_split(lit, s, &next);
          } else if (!s.empty()) {
            next.push_back(std::move(s));
          }
          break;
        }
      }
    }
    cur.swap(next);
  }
  for (std::string& w : cur)
    if (!w.empty()) words->push_back(std::move(w));
}

}  // namespace moeinfer
