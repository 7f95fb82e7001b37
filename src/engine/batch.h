// A batch under construction: flat rows of (token, position, sequence id, wants logits), as the
// forward pass takes them (model/batch.h). Rows of one sequence must be added at consecutive,
// ascending positions continuing that sequence; sequences may interleave with other sequences'
// rows only between their own runs.
#pragma once
#include <cstdint>
#include <vector>

#include "model/batch.h"

namespace moeinfer {

class Batch {
 public:
  void clear() {
    tokens_.clear();
    pos_.clear();
    seq_.clear();
    out_rows_.clear();
  }
  void add(int32_t token, int64_t pos, int32_t seq, bool wants_logits) {
    if (wants_logits) out_rows_.push_back(static_cast<int64_t>(tokens_.size()));
    tokens_.push_back(token);
    pos_.push_back(pos);
    seq_.push_back(seq);
  }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t n_out() const { return static_cast<int64_t>(out_rows_.size()); }
  bool empty() const { return tokens_.empty(); }
  int32_t token(int64_t i) const { return tokens_[static_cast<size_t>(i)]; }
  int64_t pos(int64_t i) const { return pos_[static_cast<size_t>(i)]; }
  int32_t seq(int64_t i) const { return seq_[static_cast<size_t>(i)]; }
  int64_t out_row(int64_t i) const { return out_rows_[static_cast<size_t>(i)]; }

  ForwardBatch view() const {
    ForwardBatch b;
    b.n = size();
    b.tokens = tokens_.data();
    b.pos = pos_.data();
    b.seq = seq_.data();
    b.out_rows = out_rows_.data();
    b.n_out = n_out();
    return b;
  }

 private:
  std::vector<int32_t> tokens_;
  std::vector<int64_t> pos_;
  std::vector<int32_t> seq_;
  std::vector<int64_t> out_rows_;
};

}  // namespace moeinfer
