#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

#include "base/error.h"

namespace moeinfer {

namespace {

// The live mappings, for the SIGBUS handler: a read of a page the file no longer has (it was
// truncated or replaced under us) raises SIGBUS at an address inside one of them. Slots are
// claimed and released with atomics; the handler only reads them.
struct MappedRange {
  std::atomic<uintptr_t> begin{0}, end{0};
  std::atomic<const char*> path{nullptr};
};
constexpr int kMaxRanges = 256;
MappedRange g_ranges[kMaxRanges];

void write_all(int fd, const char* s, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

extern "C" void on_sigbus(int sig, siginfo_t* info, void*) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(info ? info->si_addr : nullptr);
  for (MappedRange& r : g_ranges) {
    const uintptr_t b = r.begin.load(std::memory_order_acquire), e = r.end.load(std::memory_order_acquire);
    const char* path = r.path.load(std::memory_order_acquire);
    if (path && a >= b && a < e) {
      static const char kPrefix[] = "moeinfer: ";
      static const char kWhat[] = ": the file changed or became unreadable while in use\n";
      write_all(2, kPrefix, sizeof kPrefix - 1);
      write_all(2, path, std::strlen(path));
      write_all(2, kWhat, sizeof kWhat - 1);
      ::_exit(1);
    }
  }
  // not a model mapping: the default action
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, nullptr);
  });
}

int register_range(const uint8_t* p, uint64_t n, const char* path) {
  install_sigbus_handler();
  for (int i = 0; i < kMaxRanges; ++i) {
    const char* expected = nullptr;
    if (g_ranges[i].path.load() == nullptr && g_ranges[i].path.compare_exchange_strong(expected, "")) {
      g_ranges[i].begin.store(reinterpret_cast<uintptr_t>(p));
      g_ranges[i].end.store(reinterpret_cast<uintptr_t>(p) + n);
      g_ranges[i].path.store(path, std::memory_order_release);
      return i;
    }
  }
  return -1;  // more mappings than slots: that one is not watched
}

void unregister_range(int slot) {
  if (slot < 0) return;
  g_ranges[slot].begin.store(0);
  g_ranges[slot].end.store(0);
  g_ranges[slot].path.store(nullptr, std::memory_order_release);
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path, "", std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw Error(path, "", std::string("cannot stat: ") + std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(path, "", "is a directory, expected a model file");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path, "", "is not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw Error(path, "", std::string("cannot map: ") + std::strerror(e));
    }
    data_ = static_cast<const uint8_t*>(p);
    slot_ = register_range(data_, size_, path_.c_str());
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  unregister_range(slot_);
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace moeinfer
