// Writing models tensor by tensor, never the whole model in memory: each output tensor names a
// row source (F32 rows produced on demand: dequantized from a file, permuted, or generated), and
// the writer converts chunks of rows in parallel into the output type and streams them to disk.
// Shared by `moeinfer quantize` and `moeinfer make-model`.
#pragma once
#include <cstdint>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "formats/gguf_stream_writer.h"
#include "tensor/dtype.h"

namespace moeinfer {

// Fills out[ne[0]] with row `row` (0 <= row < rows) as F32. Called concurrently from several
// threads for different rows; must not throw.
using RowFn = std::function<void(int64_t row, float* out)>;

struct ExportTensor {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] = row length
  DType type;               // output type (F32, F16, BF16 or a block format with a quantizer)
  RowFn rows;

  int64_t cols() const { return ne[0]; }
  int64_t n_rows() const {
    int64_t r = 1;
    for (size_t i = 1; i < ne.size(); ++i) r *= ne[i];
    return r;
  }
};

// Progress on stderr: on a terminal one line rewritten in place (at most 5 times a second),
// otherwise a line at every 10 %. Disabled: silent.
class Progress {
 public:
  Progress(std::string verb, uint64_t total_bytes, bool enabled);
  void advance(uint64_t bytes, const std::string& what);
  void finish();  // ends the line on a terminal

 private:
  void print(const std::string& what);
  std::string verb_;
  uint64_t total_, done_ = 0;
  bool enabled_, tty_;
  double last_ = 0.0;
  int last_decile_ = -1;
};

// Runs one write at a time on a background thread, so that encoding the next chunk overlaps
// writing the last one (the caller alternates between two buffers). wait() rethrows a failure.
class BackgroundWriter {
 public:
  ~BackgroundWriter();
  void submit(std::function<void()> write);  // waits for the previous write first
  void wait();

 private:
  std::future<void> pending_;
};

// Converts rows [r0, r0 + n) of `t` into its output type at dst (n × row bytes), splitting the rows
// over the pool's threads.
void encode_rows(const ExportTensor& t, int64_t r0, int64_t n, uint8_t* dst, ThreadPool& pool);

// Declares every tensor, writes the header, then the tensors' data chunk by chunk (about 32 MiB of
// output at a time), and finishes the file. Metadata must have been added to `w` already.
void write_gguf_tensors(GgufStreamWriter* w, const std::vector<ExportTensor>& tensors, ThreadPool& pool,
                        Progress* progress);

// "1.23 GB" style sizes for messages.
std::string human_bytes(uint64_t n);

}  // namespace moeinfer
