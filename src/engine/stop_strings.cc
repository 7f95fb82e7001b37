#include "engine/stop_strings.h"

#include <algorithm>

namespace moeinfer {

StopStrings::StopStrings(std::vector<std::string> stops) {
  for (std::string& s : stops)
    if (!s.empty() && std::find(stops_.begin(), stops_.end(), s) == stops_.end()) stops_.push_back(std::move(s));
}

namespace {

// Length of the longest suffix of buf that is a proper prefix of some stop string (0 if none).
size_t partial_match_len(const std::string& buf, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const std::string& s : stops) {
    const size_t max_k = std::min(s.size() - 1, buf.size());
    for (size_t k = max_k; k > best; --k) {
      if (buf.compare(buf.size() - k, k, s, 0, k) == 0) {
        best = k;
        break;
      }
    }
  }
  return best;
}

}  // namespace

std::string StopStrings::push(std::string_view text, bool* stopped) {
  if (stopped_ || stops_.empty()) {
    if (stopped) *stopped = stopped_;
    return stopped_ ? std::string() : std::string(text);
  }
  std::string buf = std::move(held_);
  held_.clear();
  buf.append(text);

  // The first stop string to complete: earliest end, then earliest start. held_ never holds a
  // whole stop string, and text before held_ cannot start one (it was released only once no
  // stop string could begin there), so searching buf from its start finds every candidate.
  size_t cut = std::string::npos, cut_end = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t pos = buf.find(s);
    if (pos == std::string::npos) continue;
    const size_t end = pos + s.size();
    if (end < cut_end || (end == cut_end && pos < cut)) cut = pos, cut_end = end;
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    if (stopped) *stopped = true;
    buf.resize(cut);
    return buf;
  }

  const size_t hold = partial_match_len(buf, stops_);
  held_.assign(buf, buf.size() - hold, hold);
  buf.resize(buf.size() - hold);
  if (stopped) *stopped = false;
  return buf;
}

std::string StopStrings::flush() {
  std::string out = std::move(held_);
  held_.clear();
  return stopped_ ? std::string() : out;
}

}  // namespace moeinfer
