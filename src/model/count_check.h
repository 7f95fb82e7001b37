// Counts read from metadata (layers, MTP layers) are checked against the tensors the file actually
// holds before any vector is sized by them: a 14 KiB GGUF claiming two million layers must end in
// a clear error, not in gigabytes of empty layer structs (expert counts are bounded earlier, by the
// router's shape).
#pragma once
#include <cstdint>
#include <string>

#include "base/error.h"
#include "formats/tensor_set.h"

namespace moeinfer {

// n layers need at least n tensors, and the last one's `last_tensor` must exist. file/field name
// the metadata the count came from.
inline void check_layer_count(const TensorSet& t, int64_t n, const std::string& last_tensor, const std::string& file,
                              const std::string& field) {
  const int64_t n_tensors = static_cast<int64_t>(t.tensors().size());
  if (n < 0 || n > n_tensors)
    throw Error(file, field,
                "expected at most as many layers as the file has tensors (" + std::to_string(n_tensors) + "), got " +
                    std::to_string(n));
  if (n > 0 && !t.find_tensor(last_tensor))
    throw Error(file, field,
                std::to_string(n) + " layers, but the last layer's tensor '" + last_tensor + "' is not in the file");
}

}  // namespace moeinfer
