#include "engine/text_stream.h"

#include "base/utf8.h"

namespace moeinfer {

namespace {

std::vector<std::string> sanitized(std::vector<std::string> v) {
  for (std::string& s : v) s = utf8_sanitize(s);
  return v;
}

}  // namespace

TextStream::TextStream(std::vector<std::string> stop_strings) : stops_(sanitized(std::move(stop_strings))) {}

std::string TextStream::push(const std::string& piece, bool* stopped) {
  if (stops_.stopped()) {
    if (stopped) *stopped = true;
    return "";
  }
  return stops_.push(utf8_.push(piece), stopped);
}

std::string TextStream::flush(bool* stopped) {
  bool stop = stops_.stopped();
  std::string out;
  if (!stop) {
    out = stops_.push(utf8_.flush(), &stop);
    if (!stop) out += stops_.flush();
  }
  if (stopped) *stopped = stop;
  return out;
}

}  // namespace moeinfer
