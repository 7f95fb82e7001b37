#include "tokenizer/pcre_regex.h"

#include <pcre2.h>

#include "base/error.h"
#include "base/utf8.h"
#include "tokenizer/unicode_update.h"

namespace moeinfer {

namespace {

std::string pcre_message(int code) {
  PCRE2_UCHAR buf[256];
  int n = pcre2_get_error_message(code, buf, sizeof buf);
  return n < 0 ? "PCRE2 error " + std::to_string(code) : std::string(reinterpret_cast<const char*>(buf), n);
}

// JIT matching runs on its own stack; one per thread, grown on demand up to 64 MiB, so long runs
// of whitespace under patterns such as \s+(?!\S) do not hit the default 32 KiB limit.
pcre2_jit_stack* thread_jit_stack(void*) {
  struct Holder {
    pcre2_jit_stack* stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr);
    ~Holder() {
      if (stack) pcre2_jit_stack_free(stack);
    }
  };
  thread_local Holder h;
  return h.stack;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;      // the pattern as written (PCRE2's Unicode 14.0 classes)
  pcre2_code* updated = nullptr;   // with newer Unicode assignments; null when identical
  pcre2_match_context* context = nullptr;
  ~Impl() {
    if (context) pcre2_match_context_free(context);
    if (updated) pcre2_code_free(updated);
    if (code) pcre2_code_free(code);
  }
};

Regex::Regex(const std::string& pattern, RegexDialect dialect, const std::string& file, const std::string& field)
    : pattern_(pattern), impl_(std::make_unique<Impl>()) {
  uint32_t options = PCRE2_UTF | PCRE2_UCP;
  options |= dialect == RegexDialect::kOniguruma ? PCRE2_MULTILINE : PCRE2_DOLLAR_ENDONLY;
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  auto compile = [&](const std::string& p) {
    return pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(), options, &err, &err_offset, nullptr);
  };
  impl_->code = compile(pattern);  // errors are reported against the pattern as written
  if (!impl_->code)
    throw Error(file, field,
                "expected a valid regular expression, got '" + utf8_sanitize(pattern) + "' which does not compile: " +
                    pcre_message(err) + " at offset " + std::to_string(err_offset));
  const std::string updated = with_newer_unicode(pattern);
  if (updated != pattern) {
    pcre2_code* code = compile(updated);
    if (!code)
      throw Error(file, field, "internal error: the Unicode-updated form of '" + utf8_sanitize(pattern) +
                                   "' does not compile: " + pcre_message(err));
    impl_->updated = code;
  }
  // JIT when available (the interpreter runs otherwise); its stack is per thread.
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);
  if (impl_->updated) pcre2_jit_compile(impl_->updated, PCRE2_JIT_COMPLETE);
  impl_->context = pcre2_match_context_create(nullptr);
  if (!impl_->context) throw std::bad_alloc();
  pcre2_jit_stack_assign(impl_->context, thread_jit_stack, nullptr);
}

Regex::~Regex() = default;

void Regex::for_each_match(std::string_view text, const std::function<void(size_t, size_t)>& on_match) const {
  // Both forms match identically unless the text holds a newly assigned character.
  const pcre2_code* code = impl_->updated && has_newer_unicode(text) ? impl_->updated : impl_->code;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  if (!md) throw std::bad_alloc();
  struct Free {
    pcre2_match_data* md;
    ~Free() { pcre2_match_data_free(md); }
  } guard{md};

  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  uint32_t flags = 0;  // the first call validates the whole subject's UTF-8; later calls skip it
  size_t start = 0;
  while (start <= n) {
    int rc = pcre2_match(code, subject, n, start, flags, md, impl_->context);
    flags = PCRE2_NO_UTF_CHECK;
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) throw Error("", "regex '" + utf8_sanitize(pattern_) + "'", "matching failed: " + pcre_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t b = ov[0], e = ov[1];
    if (e > b) {
      on_match(b, e);
      start = e;
    } else {  // empty match: skip one character
      if (b >= n) return;
      const unsigned char c = static_cast<unsigned char>(text[b]);
      start = b + (c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4);
      if (start > n) return;
    }
  }
}

}  // namespace moeinfer
