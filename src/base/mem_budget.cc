#include "base/mem_budget.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "base/error.h"

namespace moeinfer {

uint64_t parse_size(const std::string& text, const std::string& option) {
  const std::string expected = "expected a size such as 3.5G, 512M or 4096 (bytes), got '" + text + "'";
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) throw UsageError(option, expected);
  const std::string num = text.substr(0, i);
  if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") throw UsageError(option, expected);
  std::string unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  for (char& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  double mult = 1;
  static const char* kPrefixes = "KMGT";
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else {
    const char* p = std::strchr(kPrefixes, unit[0]);
    const std::string rest = unit.substr(1);
    if (!p || unit[0] == '\0' || !(rest.empty() || rest == "IB" || rest == "B")) throw UsageError(option, expected);
    const int power = static_cast<int>(p - kPrefixes) + 1;
    mult = std::pow(rest == "B" ? 1000.0 : 1024.0, power);
  }
  const double v = std::strtod(num.c_str(), nullptr) * mult;
  if (!(v >= 1) || v > 9.0e18) throw UsageError(option, "expected a size of at least 1 byte and below 8 EiB, got '" + text + "'");
  return static_cast<uint64_t>(v);
}

std::string format_size(uint64_t bytes) {
  char buf[64];
  if (bytes >= (uint64_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / double(uint64_t{1} << 30));
  else if (bytes >= (uint64_t{1} << 20)) std::snprintf(buf, sizeof buf, "%.0f MiB", bytes / double(uint64_t{1} << 20));
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A limit file's value: a number of bytes, "max" (none), or absent (0 = none).
uint64_t read_limit(const std::string& path) {
  std::string s = read_file(path);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.empty() || s == "max") return 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0') return 0;
  // v1 writes "no limit" as PAGE_COUNTER_MAX pages (about 2^63 bytes).
  if (v >= (uint64_t{1} << 60)) return 0;
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

// mountinfo's octal escapes (\040 for a space).
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string oct = s.substr(i + 1, 3);
      if (oct.size() == 3 && oct.find_first_not_of("01234567") == std::string::npos) {
        out += static_cast<char>(std::stoi(oct, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

struct Mount {
  std::string root, point;
};

// The mount of the v2 hierarchy (v2 == true) or of the v1 memory controller.
bool find_mount(const std::string& mountinfo, bool v2, Mount* m) {
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string w;
    while (ls >> w) f.push_back(w);
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash < 6 || dash + 3 >= f.size()) continue;
    const std::string& fstype = f[dash + 1];
    const std::string& super = f[dash + 3];
    if (v2 ? fstype != "cgroup2" : fstype != "cgroup") continue;
    if (!v2) {
      bool memory = false;
      for (const std::string& o : split(super, ',')) memory = memory || o == "memory";
      if (!memory) continue;
    }
    m->root = unescape(f[3]);
    m->point = unescape(f[4]);
    return true;
  }
  return false;
}

}  // namespace

CgroupLimit cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& mountinfo,
                                const std::string& fs_root) {
  CgroupLimit best;
  std::istringstream in(proc_self_cgroup);
  std::string line;
  while (std::getline(in, line)) {
    // hierarchy-id:controllers:path; the path may itself contain ':'.
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    bool v2 = false;
    if (id == "0" && controllers.empty()) {
      v2 = true;
    } else {
      bool memory = false;
      for (const std::string& c : split(controllers, ',')) memory = memory || c == "memory";
      if (!memory) continue;
    }
    Mount m;
    if (!find_mount(mountinfo, v2, &m)) continue;
    // The group's path relative to the mount's root (a container sees its own group as "/").
    std::string rel = path;
    if (m.root != "/" && rel.compare(0, m.root.size(), m.root) == 0) rel = rel.substr(m.root.size());
    if (rel.empty() || rel[0] != '/') rel = "/" + rel;
    const char* file = v2 ? "memory.max" : "memory.limit_in_bytes";
    // From the group up to the mount point.
    std::string dir = rel;
    while (true) {
      const std::string f = fs_root + m.point + (dir == "/" ? "" : dir) + "/" + file;
      const uint64_t v = read_limit(f);
      if (v > 0 && (best.bytes == 0 || v < best.bytes)) {
        best.bytes = v;
        best.file = f;
      }
      if (dir == "/") break;
      const size_t slash = dir.rfind('/');
      dir = slash == 0 ? "/" : dir.substr(0, slash);
    }
  }
  return best;
}

CgroupLimit own_cgroup_memory_limit() {
  return cgroup_memory_limit(read_file("/proc/self/cgroup"), read_file("/proc/self/mountinfo"));
}

uint64_t meminfo_bytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string k, unit;
  uint64_t kb = 0;
  while (in >> k >> kb) {
    std::getline(in, unit);
    if (k == key + ":") return kb * 1024;
  }
  return 0;
}

MemBudget default_mem_budget() {
  MemBudget b;
  const uint64_t total = meminfo_bytes("MemTotal");
  const CgroupLimit cg = own_cgroup_memory_limit();
  uint64_t limit = total;
  std::string from = "MemTotal " + format_size(total);
  if (cg.bytes > 0 && (total == 0 || cg.bytes < total)) {
    limit = cg.bytes;
    from = "cgroup limit " + format_size(cg.bytes) + " (" + cg.file + ")";
  }
  if (limit == 0) {  // no /proc: assume plenty, and say so
    b.bytes = std::numeric_limits<uint64_t>::max() / 2;
    b.source = "no memory limit found";
    return b;
  }
  const uint64_t margin = std::max<uint64_t>(uint64_t{256} << 20, limit / 100 * 6);
  b.bytes = limit > 2 * margin ? limit - margin : limit / 2;
  b.source = from + " less " + format_size(limit - b.bytes);
  return b;
}

}  // namespace moeinfer
