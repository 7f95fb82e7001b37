// The memory budget's pieces: sizes as people write them, and the cgroup readers on fixture trees
// (v1 and v2, "max", nested groups, a container whose mount root is its own group).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "base/mem_budget.h"
#include "test_util.h"

namespace moeinfer {
namespace {

TEST(MemBudget, ParsesSizes) {
  EXPECT_EQ(parse_size("4096", "--mem-budget"), 4096u);
  EXPECT_EQ(parse_size("3.5G", "--mem-budget"), uint64_t{7} << 29);
  EXPECT_EQ(parse_size("512M", "--mem-budget"), uint64_t{512} << 20);
  EXPECT_EQ(parse_size("512MiB", "--mem-budget"), uint64_t{512} << 20);
  EXPECT_EQ(parse_size("4GB", "--mem-budget"), uint64_t{4000000000});
  EXPECT_EQ(parse_size("2k", "--mem-budget"), 2048u);
  EXPECT_EQ(parse_size("1T", "--mem-budget"), uint64_t{1} << 40);
  for (const char* bad : {"", "G", "1.2.3G", "-1G", "4X", "4GiBs", "0", ".", "1e9"}) {
    try {
      parse_size(bad, "--mem-budget");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--mem-budget"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(format_size(uint64_t{3} << 30), "3.00 GiB");
  EXPECT_EQ(format_size(uint64_t{812} << 20), "812 MiB");
}

void write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(MemBudget, CgroupV2SmallestLimitUpToTheRoot) {
  const test::TempDir td;
  const std::string root = td.path;
  write(root + "/sys/fs/cgroup/memory.max", "max\n");  // the root has none
  write(root + "/sys/fs/cgroup/user.slice/memory.max", "8589934592\n");
  write(root + "/sys/fs/cgroup/user.slice/job/memory.max", "max\n");
  const std::string mountinfo = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
  CgroupLimit l = cgroup_memory_limit("0::/user.slice/job\n", mountinfo, root);
  EXPECT_EQ(l.bytes, uint64_t{8} << 30);
  EXPECT_NE(l.file.find("user.slice/memory.max"), std::string::npos) << l.file;
  write(root + "/sys/fs/cgroup/user.slice/job/memory.max", "4294967296\n");
  l = cgroup_memory_limit("0::/user.slice/job\n", mountinfo, root);
  EXPECT_EQ(l.bytes, uint64_t{4} << 30);
  // "max" everywhere: no limit
  write(root + "/sys/fs/cgroup/user.slice/job/memory.max", "max\n");
  write(root + "/sys/fs/cgroup/user.slice/memory.max", "max\n");
  EXPECT_EQ(cgroup_memory_limit("0::/user.slice/job\n", mountinfo, root).bytes, 0u);
}

TEST(MemBudget, CgroupV1MemoryControllerAndContainerRoot) {
  const test::TempDir td;
  const std::string root = td.path;
  const std::string mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
  // Inside the container the group's path begins with the mount's root, which is the mount point.
  write(root + "/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");  // v1's "none"
  write(root + "/sys/fs/cgroup/memory/bench/memory.limit_in_bytes", "4294967296\n");
  const std::string self = "9:name=systemd:/\n8:cpu:/docker/abc\n4:memory:/docker/abc/bench\n";
  CgroupLimit l = cgroup_memory_limit(self, mountinfo, root);
  EXPECT_EQ(l.bytes, uint64_t{4} << 30);
  EXPECT_NE(l.file.find("memory/bench/memory.limit_in_bytes"), std::string::npos) << l.file;
  // No memory controller line: no limit.
  EXPECT_EQ(cgroup_memory_limit("8:cpu:/\n", mountinfo, root).bytes, 0u);
}

TEST(MemBudget, DefaultIsBelowTheMachine) {
  const MemBudget b = default_mem_budget();
  const uint64_t total = meminfo_bytes("MemTotal");
  ASSERT_GT(total, 0u);
  EXPECT_LT(b.bytes, total);
  EXPECT_GT(b.bytes, total / 4);
  EXPECT_FALSE(b.source.empty());
}

}  // namespace
}  // namespace moeinfer
