#include "chat/jinja_lexer.h"

#include <charconv>
#include <cmath>

#include "chat/jinja_pystr.h"
#include "chat/jinja_value.h"

namespace moeinfer::jinja {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string normalize_newlines(std::string_view src) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out.push_back(src[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
  return out;
}

// The value of a string literal's body: Python's "unicode_escape" decoding, as Jinja applies it.
std::string unescape(std::string_view s, int line) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    const char c = s[++i];  // the lexer guarantees a character after every backslash
    auto read_hex = [&](size_t digits) -> char32_t {
      char32_t v = 0;
      for (size_t k = 0; k < digits; ++k) {
        const int h = i + 1 + k < s.size() ? hex_value(s[i + 1 + k]) : -1;
        if (h < 0) throw SyntaxError("truncated \\" + std::string(1, c) + " escape in a string literal", line);
        v = v * 16 + static_cast<char32_t>(h);
      }
      i += digits;
      return v;
    };
    switch (c) {
      case '\n':
        break;  // line continuation
      case '\\':
      case '\'':
      case '"':
        out.push_back(c);
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
        py::append_utf8(out, read_hex(2));
        break;
      case 'u':
      case 'U': {
        char32_t cp = read_hex(c == 'u' ? 4 : 8);
        if (cp > 0x10FFFF) throw SyntaxError("illegal Unicode character in a string literal", line);
        // A surrogate pair written as two \u escapes becomes one character.
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < s.size() && s[i + 1] == '\\' && s[i + 2] == 'u') {
          size_t save = i;
          i += 2;
          char32_t lo = 0;
          bool ok = true;
          for (size_t k = 0; k < 4; ++k) {
            const int h = i + 1 + k < s.size() ? hex_value(s[i + 1 + k]) : -1;
            if (h < 0) ok = false;
            lo = lo * 16 + static_cast<char32_t>(h < 0 ? 0 : h);
          }
          if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
            i += 4;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            i = save;
          }
        }
        py::append_utf8(out, cp);
        break;
      }
      case 'N':
        throw SyntaxError("\\N{...} escapes are not supported in string literals", line);
      default:
        if (c >= '0' && c <= '7') {
          char32_t v = static_cast<char32_t>(c - '0');
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            v = v * 8 + static_cast<char32_t>(s[++i] - '0');
          py::append_utf8(out, v);
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          // Jinja escapes non-ASCII text as \xhh/\uhhhh before decoding, so a backslash in front
          // of such a character survives, followed by that escape's letters.
          size_t len = 1;
          const unsigned char lead = static_cast<unsigned char>(c);
          len = (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 1;
          if (i + len > s.size()) len = s.size() - i;
          const std::u32string cps = py::decode(s.substr(i, len));
          out += '\\';
          out += py::hex_escape(cps.empty() ? 0xFFFD : cps[0]);
          i += len - 1;
        } else {
          out.push_back('\\');
          out.push_back(c);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize_newlines(source)) {}

  std::vector<Token> run() {
    const size_t n = src_.size();
    while (pos_ < n) {
      size_t p = find_tag_start(pos_);
      if (p == std::string::npos) {
        emit_data(src_.substr(pos_));
        break;
      }
      std::string text = src_.substr(pos_, p - pos_);
      const int text_newlines = count_newlines(text);
      const char kind = src_[p + 1];
      size_t q = p + 2;
      char sign = 0;
      if (q < n && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      size_t raw_body = 0;
      const bool raw = kind == '%' && match_raw_begin(q, &raw_body);
      strip_before_tag(text, sign, kind != '{');
      emit_data(text);
      line_ += text_newlines;
      line_starting_ = false;
      if (kind == '#') {
        lex_comment(q);
      } else if (raw) {
        lex_raw(raw_body);
      } else {
        lex_tag(kind, q);
      }
    }
    Token eof;
    eof.type = TokenType::kEof;
    eof.line = line_;
    out_.push_back(eof);
    return std::move(out_);
  }

 private:
  static int count_newlines(std::string_view s) {
    int k = 0;
    for (char c : s) k += c == '\n';
    return k;
  }

  size_t find_tag_start(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // Byte length of the Python whitespace character at i, 0 when there is none.
  size_t space_len(size_t i) const {
    if (i >= src_.size()) return 0;
    const unsigned char c = static_cast<unsigned char>(src_[i]);
    if (c < 0x80) return py::is_space(c) ? 1 : 0;
    size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > src_.size()) return 0;
    const std::u32string cp = py::decode(std::string_view(src_).substr(i, len));
    return cp.size() == 1 && py::is_space(cp[0]) ? len : 0;
  }

  size_t skip_spaces(size_t i) {
    while (size_t len = space_len(i)) {
      if (src_[i] == '\n') ++line_;
      i += len;
    }
    return i;
  }

  bool starts(size_t i, std::string_view s) const { return src_.compare(i, s.size(), s) == 0; }

  // `{% raw %}`: q is just past "{%" and its sign. On a match, *body is where the raw text starts.
  bool match_raw_begin(size_t q, size_t* body) const {
    size_t i = q;
    while (size_t len = space_len(i)) i += len;
    if (!starts(i, "raw")) return false;
    i += 3;
    while (size_t len = space_len(i)) i += len;
    if (starts(i, "-%}")) {
      i += 3;
      while (size_t len = space_len(i)) i += len;
    } else if (starts(i, "%}")) {
      i += 2;  // no trim_blocks newline removal after {% raw %}, as in Jinja
    } else {
      return false;
    }
    *body = i;
    return true;
  }

  // `-` strips all whitespace before the tag; otherwise lstrip_blocks removes the spaces and tabs
  // between the line start and a block or comment tag (not `{{`), unless the sign is `+`.
  void strip_before_tag(std::string& text, char sign, bool lstrip_applies) const {
    if (sign == '-') {
      text = py::strip(text, nullptr, false, true);
    } else if (sign != '+' && lstrip_applies) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      // Jinja 3.1.6 tests whitespace_re (\s+, Unicode whitespace) on the rest of the line.
      if ((l_pos > 0 || line_starting_) && l_pos < text.size()) {
        const std::u32string rest = py::decode(std::string_view(text).substr(l_pos));
        bool all_space = true;
        for (char32_t c : rest) all_space = all_space && py::is_space(c);
        if (all_space) text.resize(l_pos);
      }
    }
  }

  void emit_data(std::string text) {
    if (text.empty()) return;
    Token t;
    t.type = TokenType::kData;
    t.text = std::move(text);
    t.line = line_;
    out_.push_back(std::move(t));
  }

  void emit(TokenType type, std::string text, int line) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.line = line;
    out_.push_back(std::move(t));
  }

  // After a closing `%}` or `#}`: `-` eats all whitespace, `+` nothing, otherwise one newline.
  size_t after_close(size_t i, char sign) {
    if (sign == '-') return skip_spaces(i);
    if (sign != '+' && i < src_.size() && src_[i] == '\n') {
      ++line_;
      return i + 1;
    }
    return i;
  }

  void lex_comment(size_t q) {
    const size_t e = src_.find("#}", q);
    if (e == std::string::npos) throw SyntaxError("missing end of comment tag", line_);
    const char sign = (e > q && (src_[e - 1] == '-' || src_[e - 1] == '+')) ? src_[e - 1] : 0;
    line_ += count_newlines(std::string_view(src_).substr(q, e - q));
    pos_ = after_close(e + 2, sign);
    line_starting_ = src_[pos_ - 1] == '\n';
  }

  void lex_raw(size_t body) {
    line_ += count_newlines(std::string_view(src_).substr(pos_, body - pos_));
    for (size_t k = src_.find("{%", body); k != std::string::npos; k = src_.find("{%", k + 1)) {
      size_t i = k + 2;
      char sign = 0;
      if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) sign = src_[i++];
      while (size_t len = space_len(i)) i += len;
      if (!starts(i, "endraw")) continue;
      i += 6;
      while (size_t len = space_len(i)) i += len;
      char close_sign = 0;
      if (starts(i, "-%}") || starts(i, "+%}")) {
        close_sign = src_[i];
        i += 3;
      } else if (starts(i, "%}")) {
        i += 2;
      } else {
        continue;
      }
      std::string text = src_.substr(body, k - body);
      const int newlines = count_newlines(std::string_view(src_).substr(body, i - body));
      line_starting_ = body > 0 && src_[body - 1] == '\n';
      strip_before_tag(text, sign, true);
      emit_data(std::move(text));
      line_ += newlines;
      pos_ = after_close(i, close_sign);
      line_starting_ = src_[pos_ - 1] == '\n';
      return;
    }
    throw SyntaxError("missing end of raw directive", line_);
  }

  // Inside {{ }} or {% %}: names, numbers, strings and operators until the closing delimiter,
  // which only counts while brackets are balanced (so `{{ {'a': {}} }}` works).
  void lex_tag(char kind, size_t q) {
    const bool block = kind == '%';
    emit(block ? TokenType::kBlockBegin : TokenType::kVarBegin, block ? "{%" : "{{", line_);
    size_t i = q;
    std::string balance;
    while (true) {
      if (i >= src_.size())
        throw SyntaxError(std::string("unexpected end of template, expected '") + (block ? "%}" : "}}") + "'",
                          line_);
      if (balance.empty()) {
        if (block && (starts(i, "-%}") || starts(i, "+%}"))) {
          emit(TokenType::kBlockEnd, "%}", line_);
          pos_ = after_close(i + 3, src_[i]);
          break;
        }
        if (block && starts(i, "%}")) {
          emit(TokenType::kBlockEnd, "%}", line_);
          pos_ = after_close(i + 2, 0);
          break;
        }
        if (!block && starts(i, "-}}")) {
          emit(TokenType::kVarEnd, "}}", line_);
          pos_ = skip_spaces(i + 3);
          break;
        }
        if (!block && starts(i, "}}")) {
          emit(TokenType::kVarEnd, "}}", line_);
          pos_ = i + 2;
          break;
        }
      }
      if (size_t len = space_len(i)) {
        if (src_[i] == '\n') ++line_;
        i += len;
      } else if (is_digit(src_[i])) {
        i = lex_number(i);
      } else if (is_name_start(src_[i])) {
        size_t j = i;
        while (j < src_.size() && is_name_char(src_[j])) ++j;
        emit(TokenType::kName, src_.substr(i, j - i), line_);
        i = j;
      } else if (src_[i] == '\'' || src_[i] == '"') {
        i = lex_string(i);
      } else {
        i = lex_operator(i, balance);
      }
    }
    line_starting_ = src_[pos_ - 1] == '\n';
  }

  // Digit runs with single underscores between them: (\d+_)*\d+
  size_t scan_digits(size_t i) const {
    while (i < src_.size() && is_digit(src_[i])) {
      ++i;
      if (i + 1 < src_.size() && src_[i] == '_' && is_digit(src_[i + 1])) ++i;
    }
    return i;
  }

  size_t lex_number(size_t i) {
    const size_t int_end = scan_digits(i);
    size_t end = int_end;
    bool is_float = false;
    if (i == 0 || src_[i - 1] != '.') {  // Jinja's float rule has (?<!\.)
      size_t frac_end = 0;
      if (int_end + 1 < src_.size() && src_[int_end] == '.' && is_digit(src_[int_end + 1]))
        frac_end = scan_digits(int_end + 1);
      auto exponent_end = [&](size_t at) -> size_t {
        if (at >= src_.size() || (src_[at] != 'e' && src_[at] != 'E')) return 0;
        size_t k = at + 1;
        if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
        if (k >= src_.size() || !is_digit(src_[k])) return 0;
        return scan_digits(k);
      };
      size_t exp_end = exponent_end(frac_end ? frac_end : int_end);
      if (exp_end) {
        end = exp_end;
        is_float = true;
      } else if (frac_end) {
        end = frac_end;
        is_float = true;
      }
    }
    std::string digits;
    for (size_t k = i; k < end; ++k)
      if (src_[k] != '_') digits.push_back(src_[k]);
    Token t;
    t.line = line_;
    t.text = digits;
    if (is_float) {
      t.type = TokenType::kFloat;
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), t.number);
      if (r.ec == std::errc::result_out_of_range) {
        const bool tiny = digits.find("e-") != std::string::npos || digits.find("E-") != std::string::npos;
        t.number = tiny ? 0.0 : HUGE_VAL;
      }
    } else {
      t.type = TokenType::kInteger;
      if (digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos)
        throw SyntaxError("leading zeros in an integer literal are not permitted", line_);
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), t.integer);
      if (r.ec != std::errc()) throw SyntaxError("integer literal too large: " + digits, line_);
    }
    out_.push_back(std::move(t));
    return end;
  }

  size_t lex_string(size_t i) {
    const char quote = src_[i];
    size_t j = i + 1;
    while (j < src_.size() && src_[j] != quote) j += src_[j] == '\\' ? 2 : 1;
    if (j >= src_.size()) throw SyntaxError("unterminated string literal", line_);
    const int start_line = line_;
    line_ += count_newlines(std::string_view(src_).substr(i, j - i));
    Token t;
    t.type = TokenType::kString;
    t.text = unescape(std::string_view(src_).substr(i + 1, j - i - 1), start_line);
    t.line = start_line;
    out_.push_back(std::move(t));
    return j + 1;
  }

  size_t lex_operator(size_t i, std::string& balance) {
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwo) {
      if (starts(i, op)) {
        emit(TokenType::kOperator, std::string(op), line_);
        return i + 2;
      }
    }
    const char c = src_[i];
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      std::string shown;
      const std::u32string cp = py::decode(std::string_view(src_).substr(i, 4));
      py::append_utf8(shown, cp.empty() ? 0xFFFD : cp[0]);
      throw SyntaxError("unexpected char '" + shown + "'", line_);
    }
    if (c == '(' || c == '[' || c == '{') {
      balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) throw SyntaxError(std::string("unexpected '") + c + "'", line_);
      if (balance.back() != c)
        throw SyntaxError(std::string("unexpected '") + c + "', expected '" + balance.back() + "'", line_);
      balance.pop_back();
    }
    emit(TokenType::kOperator, std::string(1, c), line_);
    return i + 1;
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace moeinfer::jinja
