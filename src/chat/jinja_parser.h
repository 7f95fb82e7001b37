// Jinja parser: tokens (jinja_lexer.h) to a Program (jinja_ast.h), following the grammar of
// jinja2/parser.py, including its operator precedence (filters and `is` tests bind tighter than
// arithmetic: `'a' + x | trim` is `'a' + (x | trim)`; `not x is defined` is `not (x is defined)`).
// Statements: if/elif/else, for (tuple targets, inline `if`, else, recursive), set (incl.
// `ns.attr` and block set), macro, call, filter, with, print, break/continue (HF enables the
// loopcontrols extension), generation (HF's AssistantTracker) and raw. Template inheritance and
// includes (extends, block, include, import) are not supported: there is nothing to load.
#pragma once
#include <memory>
#include <string_view>

#include "chat/jinja_ast.h"

namespace moeinfer::jinja {

// Throws SyntaxError with the line of the offending token. Nesting deeper than a fixed limit
// (a few hundred levels) is an error rather than a stack overflow.
std::unique_ptr<Program> parse(std::string_view source);

}  // namespace moeinfer::jinja
