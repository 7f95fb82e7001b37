// How much memory this process may use: the limit of its own cgroup (v1 or v2, the smallest from
// its group up to the root of the hierarchy) and the machine's MemTotal, less a margin. Every
// placement decision (repacked copies, the expert cache, KV store, scratch) is sized against it.
//
// The readers take file contents or a root directory so that tests run them on fixture files.
#pragma once
#include <cstdint>
#include <string>

namespace moeinfer {

// "3.5G", "3584M", "512MiB", "4GB", "4096" (bytes). K/M/G/T and KiB/MiB/GiB/TiB are binary
// (powers of 1024); KB/MB/GB/TB are decimal. Throws UsageError(option, ...) on anything else.
uint64_t parse_size(const std::string& text, const std::string& option);

// "3.50 GiB", "812 MiB", "4096 B": a size for people.
std::string format_size(uint64_t bytes);

struct CgroupLimit {
  uint64_t bytes = 0;    // 0 when no group on the path has a limit
  std::string file;      // the control file that gave the smallest limit
};

// The smallest memory limit from the process's group up to the hierarchy's root.
// proc_self_cgroup: the text of /proc/self/cgroup; mountinfo: the text of /proc/self/mountinfo;
// fs_root: prefixed to every mount point read (fixtures), "" on a live system.
CgroupLimit cgroup_memory_limit(const std::string& proc_self_cgroup, const std::string& mountinfo,
                                const std::string& fs_root = "");

// The same for this process, from /proc.
CgroupLimit own_cgroup_memory_limit();

// A field of /proc/meminfo (e.g. "MemTotal"), in bytes; 0 when absent.
uint64_t meminfo_bytes(const std::string& key);

struct MemBudget {
  uint64_t bytes = 0;
  std::string source;  // "--mem-budget", "cgroup limit 4.00 GiB (/sys/...) less a margin", ...
};

// The default budget: min(cgroup limit, MemTotal) less a margin (6 %, at least 256 MiB).
MemBudget default_mem_budget();

}  // namespace moeinfer
