#include "engine/utf8_stream.h"

#include "base/utf8.h"

namespace moeinfer {

std::string Utf8Stream::push(std::string_view bytes) {
  std::string buf = std::move(tail_);
  buf.append(bytes);
  const size_t hold = utf8_incomplete_tail(buf);
  tail_.assign(buf, buf.size() - hold, hold);
  buf.resize(buf.size() - hold);
  // The cut is at a lead byte, where no invalid subpart can continue (utf8.h), so sanitizing the
  // part before it now gives the same bytes as sanitizing the whole text later.
  return utf8_sanitize(buf);
}

std::string Utf8Stream::flush() {
  std::string out = utf8_sanitize(tail_);
  tail_.clear();
  return out;
}

}  // namespace moeinfer
