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
  if (!mla) require_positive(src, "head_dim", attn.head_dim);
  if (attn.n_heads % attn.n_kv_heads != 0)
    throw Error(src, "attention.head_count_kv",
                "expected a divisor of head_count " + std::to_string(attn.n_heads) + ", got " +
                    std::to_string(attn.n_kv_heads));
  const int64_t rot_max = mla ? mla->qk_rope_dim : attn.head_dim;
  if (rope.n_rot <= 0 || rope.n_rot > rot_max || rope.n_rot % 2 != 0)
    throw Error(src, "rope.dimension_count",
                "expected an even value in [2, head_dim=" + std::to_string(rot_max) + "], got " +
                    std::to_string(rope.n_rot));
  if (!(rope.theta > 0.0)) throw Error(src, "rope.freq_base", "expected a positive value");
  if (!(norm_eps > 0.0f) || norm_eps > 1.0f)
    throw Error(src, "attention.layer_norm_rms_epsilon", "expected a value in (0, 1]");
  if (attn.sliding_window < 0) throw Error(src, "sliding_window", "expected >= 0");
  if (rope.scaling != RopeScaling::kNone && !(rope.factor > 0.0))
    throw Error(src, "rope_scaling.factor", "expected a positive value");
  if (rope.scaling == RopeScaling::kYarn && rope.original_context <= 0)
    throw Error(src, "rope_scaling.original_max_position_embeddings", "expected a positive value");
  if (mla) {
    require_positive(src, "kv_lora_rank", mla->kv_lora_rank);
    require_positive(src, "qk_nope_head_dim", mla->qk_nope_dim);
    require_positive(src, "qk_rope_head_dim", mla->qk_rope_dim);
    require_positive(src, "v_head_dim", mla->v_head_dim);
    if (mla->q_lora_rank < 0) throw Error(src, "q_lora_rank", "expected null or a positive value");
    if (mla->qk_rope_dim % 2 != 0) throw Error(src, "qk_rope_head_dim", "expected an even value");
  }
  if (moe) {
    require_positive(src, "n_routed_experts", moe->n_experts);
    require_positive(src, "num_experts_per_tok", moe->n_experts_per_tok);
    require_positive(src, "moe_intermediate_size", moe->expert_ffn_dim);
    require_positive(src, "n_group", moe->n_group);
    require_positive(src, "topk_group", moe->topk_group);
    if (moe->n_shared_experts < 0) throw Error(src, "n_shared_experts", "expected >= 0");
    if (moe->n_experts % moe->n_group != 0)
      throw Error(src, "n_group",
                  "expected a divisor of n_routed_experts " + std::to_string(moe->n_experts) + ", got " +
                      std::to_string(moe->n_group));
    if (moe->topk_group > moe->n_group)
      throw Error(src, "topk_group",
                  "expected at most n_group " + std::to_string(moe->n_group) + ", got " + std::to_string(moe->topk_group));
    if (moe->n_experts_per_tok > moe->topk_group * (moe->n_experts / moe->n_group))
      throw Error(src, "num_experts_per_tok",
                  "expected at most topk_group x experts per group = " +
                      std::to_string(moe->topk_group * (moe->n_experts / moe->n_group)) + ", got " +
                      std::to_string(moe->n_experts_per_tok));
    if (moe->first_dense_layers < 0 || moe->first_dense_layers > n_layers)
      throw Error(src, "first_k_dense_replace", "expected a value in [0, num_hidden_layers]");
  }
  if (rope.scaling == RopeScaling::kLlama3) {
    if (rope.original_context <= 0)
      throw Error(src, "rope_scaling.original_max_position_embeddings", "expected a positive value");
    if (!(rope.high_freq_factor > rope.low_freq_factor) || !(rope.low_freq_factor > 0.0))
      throw Error(src, "rope_scaling.high_freq_factor", "expected high_freq_factor > low_freq_factor > 0");
  }
}

}  // namespace moeinfer
