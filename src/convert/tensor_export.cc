#include "convert/tensor_export.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "tensor/quantize.h"

namespace moeinfer {

namespace {

double seconds_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

constexpr uint64_t kChunkBytes = uint64_t{32} << 20;

}  // namespace

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= (uint64_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.2f GB", n / 1e9);
  else if (n >= (uint64_t{1} << 20)) std::snprintf(buf, sizeof buf, "%.1f MB", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1f kB", n / 1e3);
  return buf;
}

Progress::Progress(std::string verb, uint64_t total_bytes, bool enabled)
    : verb_(std::move(verb)), total_(total_bytes ? total_bytes : 1), enabled_(enabled), tty_(::isatty(2) != 0) {}

void Progress::print(const std::string& what) {
  const double pct = 100.0 * static_cast<double>(done_) / static_cast<double>(total_);
  if (tty_) {
    std::fprintf(stderr, "\r%s: %5.1f%%  %s / %s  %-48.48s", verb_.c_str(), pct, human_bytes(done_).c_str(),
                 human_bytes(total_).c_str(), what.c_str());
  } else {
    std::fprintf(stderr, "%s: %3.0f%%  %s / %s  %s\n", verb_.c_str(), pct, human_bytes(done_).c_str(),
                 human_bytes(total_).c_str(), what.c_str());
  }
  std::fflush(stderr);
}

void Progress::advance(uint64_t bytes, const std::string& what) {
  done_ += bytes;
  if (!enabled_) return;
  if (tty_) {
    const double now = seconds_now();
    if (now - last_ < 0.2 && done_ < total_) return;
    last_ = now;
    print(what);
  } else {
    const int decile = static_cast<int>(10 * done_ / total_);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    print(what);
  }
}

void Progress::finish() {
  if (enabled_ && tty_) std::fputc('\n', stderr);
}

BackgroundWriter::~BackgroundWriter() {
  if (pending_.valid()) pending_.wait();
}

void BackgroundWriter::submit(std::function<void()> write) {
  wait();
  pending_ = std::async(std::launch::async, std::move(write));
}

void BackgroundWriter::wait() {
  if (pending_.valid()) pending_.get();
}

void encode_rows(const ExportTensor& t, int64_t r0, int64_t n, uint8_t* dst, ThreadPool& pool) {
  uint64_t row_bytes = 0;
  dtype_row_bytes(t.type, static_cast<uint64_t>(t.cols()), &row_bytes);
  const int64_t cols = t.cols();
  pool.run([&](int th, int nth) {
    int64_t b = 0, e = 0;
    split_range(n, th, nth, 1, &b, &e);
    if (b >= e) return;
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = b; r < e; ++r) {
      t.rows(r0 + r, row.data());
      quantize_row(t.type, row.data(), cols, dst + static_cast<uint64_t>(r) * row_bytes);
    }
  });
}

void write_gguf_tensors(GgufStreamWriter* w, const std::vector<ExportTensor>& tensors, ThreadPool& pool,
                        Progress* progress) {
  for (const ExportTensor& t : tensors) {
    if (!has_quantizer(t.type) || t.type == DType::kQ8_K)
      throw Error(w->path(), "tensor '" + t.name + "'", std::string("cannot write type ") + dtype_name(t.type));
    w->add_tensor_info(t.name, t.type, t.ne);
  }
  w->write_header();
  std::vector<uint8_t> bufs[2];
  int k = 0;
  BackgroundWriter writer;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const ExportTensor& t = tensors[i];
    const int64_t rows = t.n_rows();
    const uint64_t row_bytes = w->tensor_bytes(i) / static_cast<uint64_t>(rows);
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(rows, static_cast<int64_t>(kChunkBytes / row_bytes)));
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      std::vector<uint8_t>& buf = bufs[k];
      k ^= 1;
      buf.resize(static_cast<size_t>(n) * row_bytes);
      encode_rows(t, r0, n, buf.data(), pool);
      writer.submit([w, &buf] { w->write_data(buf.data(), buf.size()); });
      if (progress) progress->advance(buf.size(), t.name);
    }
  }
  writer.wait();
  w->finish();
  if (progress) progress->finish();
}

}  // namespace moeinfer
