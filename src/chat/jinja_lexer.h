// Jinja lexer with the settings Hugging Face transformers renders chat templates with:
// trim_blocks=True (a newline right after a block or comment tag is dropped), lstrip_blocks=True
// (whitespace between the start of a line and a block or comment tag is dropped) and
// keep_trailing_newline=False (one newline at the very end of the template is dropped).
// Newlines (\r\n, \r) are normalized to \n first, as Jinja does. Whitespace control: `{%-`, `{{-`,
// `{#-` strip all whitespace before the tag, `-%}`, `-}}`, `-#}` all whitespace after it; `{%+`
// and `+%}` turn lstrip/trim off for that tag. `{% raw %}...{% endraw %}` yields its text as data.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moeinfer::jinja {

enum class TokenType : uint8_t {
  kData,        // template text between tags
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // text holds the unescaped value
  kInteger,
  kFloat,
  kOperator,  // text holds the spelling: "+", "//", "(", ...
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;
  int64_t integer = 0;
  double number = 0.0;
  int line = 1;
};

// Throws SyntaxError (with the line) on an unclosed tag, comment or string, a bad escape, an
// unbalanced bracket or an unexpected character. The last token is kEof.
std::vector<Token> tokenize(std::string_view source);

}  // namespace moeinfer::jinja
