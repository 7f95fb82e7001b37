#include "model/config.h"

#include "base/error.h"

namespace moeinfer {

namespace {
void require_positive(const std::string& src, const char* field, int64_t v) {
  if (v <= 0) throw Error(src, field, "expected a positive value, got " + std::to_string(v));
}
}  // namespace

void ModelConfig::validate(const std::string& src) const {
  require_positive(src, "n_vocab", n_vocab);
  require_positive(src, "embedding_length", dim);
  require_positive(src, "block_count", n_layers);
  require_positive(src, "feed_forward_length", ffn_dim);
  require_positive(src, "context_length", context_length);
  require_positive(src, "attention.head_count", attn.n_heads);
  require_positive(src, "attention.head_count_kv", attn.n_kv_heads);
  require_positive(src, "head_dim", attn.head_dim);
  if (attn.n_heads % attn.n_kv_heads != 0)
    throw Error(src, "attention.head_count_kv",
                "expected a divisor of head_count " + std::to_string(attn.n_heads) + ", got " +
                    std::to_string(attn.n_kv_heads));
  if (rope.n_rot <= 0 || rope.n_rot > attn.head_dim || rope.n_rot % 2 != 0)
    throw Error(src, "rope.dimension_count",
                "expected an even value in [2, head_dim=" + std::to_string(attn.head_dim) + "], got " +
                    std::to_string(rope.n_rot));
  if (!(rope.theta > 0.0)) throw Error(src, "rope.freq_base", "expected a positive value");
  if (!(norm_eps > 0.0f) || norm_eps > 1.0f)
    throw Error(src, "attention.layer_norm_rms_epsilon", "expected a value in (0, 1]");
  if (attn.sliding_window < 0) throw Error(src, "sliding_window", "expected >= 0");
  if (rope.scaling != RopeScaling::kNone && !(rope.factor > 0.0))
    throw Error(src, "rope_scaling.factor", "expected a positive value");
  if (rope.scaling == RopeScaling::kLlama3) {
    if (rope.original_context <= 0)
      throw Error(src, "rope_scaling.original_max_position_embeddings", "expected a positive value");
    if (!(rope.high_freq_factor > rope.low_freq_factor) || !(rope.low_freq_factor > 0.0))
      throw Error(src, "rope_scaling.high_freq_factor", "expected high_freq_factor > low_freq_factor > 0");
  }
}

}  // namespace moeinfer
