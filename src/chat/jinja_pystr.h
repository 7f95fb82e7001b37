// Python `str` semantics over UTF-8 text, as the Jinja interpreter needs them: a Python string is
// a sequence of code points, so lengths, indices and slices count code points, not bytes;
// whitespace is `str.isspace()` (which is also what Python's `re` means by `\s`); case mapping
// covers ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and the full-width Latin letters
// (the rest of Unicode maps to itself); `repr()` and float formatting follow CPython exactly.
// Inputs are valid UTF-8 (the interpreter only creates valid text); a stray invalid byte decodes
// as U+FFFD.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moeinfer::jinja::py {

std::u32string decode(std::string_view s);
std::string encode(std::u32string_view cps);
void append_utf8(std::string& out, char32_t cp);
// True when s is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool valid_utf8(std::string_view s);
size_t length(std::string_view s);  // in code points

bool is_space(char32_t c);  // str.isspace()
bool is_cased(char32_t c);
char32_t to_upper(char32_t c);
char32_t to_lower(char32_t c);

std::string upper(std::string_view s);       // str.upper() (ß -> SS)
std::string lower(std::string_view s);       // str.lower()
std::string title(std::string_view s);       // str.title(): after an uncased character, title case
std::string capitalize(std::string_view s);  // str.capitalize()

// str.strip / lstrip / rstrip: chars == nullptr strips whitespace, else any of chars' code points.
std::string strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit) and str.rsplit: sep == nullptr splits on runs of whitespace.
// Throws std::invalid_argument on an empty separator ("empty separator").
std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);
// str.replace(old, new, count); count < 0 replaces all. An empty `old` inserts between code points.
std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count);
// str.find / rfind in code points, -1 when absent; str.count of non-overlapping occurrences.
int64_t find(std::string_view s, std::string_view sub, bool reverse);
int64_t count(std::string_view s, std::string_view sub);

std::string repr(std::string_view s);  // repr(str): quotes and escapes like CPython
std::string float_repr(double d);      // repr(float): shortest round-trip, CPython's layout
std::string hex_escape(char32_t cp);   // "xhh" / "uhhhh" / "Uhhhhhhhh" (no backslash)

}  // namespace moeinfer::jinja::py
