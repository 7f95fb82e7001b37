// A `moeinfer serve` child process for the server tests: started on 127.0.0.1 with --port 0, its
// port read from its start-up line (bounded wait), stopped with SIGTERM (bounded wait, then
// SIGKILL), plus small HTTP helpers on cpp-httplib's client and a raw socket.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace moeinfer::test {

class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra) {
    dir_ = temp_dir();
    err_path_ = dir_ + "/stderr";
    std::vector<std::string> args = {"serve", "-m", shipped_model(), "--port", "0", "-t", "1"};
    for (auto& e : extra) args.push_back(e);
    // ASan keeps freed memory in quarantine (256 MB by default), which the RSS checks would count
    // as growth: a small quarantine keeps them about the server's own memory.
    pid_ = spawn_cli(args, err_path_, "quarantine_size_mb=4:thread_local_quarantine_size_kb=64");
    const std::regex re("at http://127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 600 && port_ == 0; ++i) {  // 60 s at most
      std::smatch m;
      const std::string log = stderr_text();
      if (std::regex_search(log, m, re)) port_ = std::stoi(m[1]);
      else if (exited()) break;
      else std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~ServerProcess() {
    if (pid_ > 0 && status_ < 0) stop();
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string stderr_text() const {
    std::ifstream in(err_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool exited() {
    if (status_ >= 0) return true;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return true;
    }
    return false;
  }
  // SIGTERM, then up to 30 s for the exit; returns the exit status (137 when it had to be killed).
  int stop() {
    if (status_ >= 0) return status_;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (exited()) return status_;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    status_ = 137;
    return status_;
  }
  // Resident memory of the server, from /proc (kB).
  long rss_kb() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
  }
  httplib::Client client(const std::string& key = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    c.set_connection_timeout(10, 0);
    if (!key.empty()) c.set_bearer_token_auth(key);
    return c;
  }

 private:
  std::string dir_, err_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = -1;
};

// A raw TCP connection to 127.0.0.1:port (-1 on failure), with a receive timeout.
inline int connect_raw(int port, int recv_timeout_s = 20) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{recv_timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

inline void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Sends a streaming /v1/completions request of max_tokens for "Once upon a time" over a raw
// connection and reads until its first text chunk; returns the socket (the caller closes it), or
// -1 when the stream did not start.
inline int start_stream(int port, int max_tokens) {
  int fd = connect_raw(port, 30);
  if (fd < 0) return -1;
  const std::string body =
      "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + std::to_string(max_tokens) + ", \"stream\": true}";
  send_all(fd, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body);
  std::string got;
  char buf[4096];
  while (got.find("\"text\"") == std::string::npos) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      close(fd);
      return -1;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  return fd;
}

}  // namespace moeinfer::test
