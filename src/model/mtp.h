// DeepSeek-V3 multi-token prediction (MTP) forward, as ../shared/testdata/models/README.md
// ("DeepSeek MTP") and the V3 report §2.2 define it. For rows i (positions pos0 + i):
//   x_i = eh_proj(concat(enorm(E[next_i]), hnorm(h_i)))     (embedding half first)
//   o   = Block(x) over the MTP module's own KV cache (causal, rope position pos0 + i)
//   logits_i = head(head_norm(o_i))                          (predicts the token after next_i)
// where h_i is the main model's final hidden state (after its output norm) at position pos0 + i
// and next_i is the token at position pos0 + i + 1.
#pragma once
#include "model/transformer.h"

namespace moeinfer {

// Buffers for up to max_batch rows beyond RunState's: the concatenated [E | h] input.
struct MtpState {
  MtpState(const ModelConfig& c, int64_t max_batch) : cat(static_cast<size_t>(max_batch * 2 * c.dim)) {}
  std::vector<float> cat;  // [B][2 * dim]
};

// b.tokens are the next tokens (next_i), b.pos the rows' positions, b.seq their sequence in kv.
// logits: [b.n][n_vocab]. kv has one layer with the main model's K/V row sizes.
void mtp_forward(const ForwardContext& ctx, const ModelConfig& c, const MtpWeights& w, const KvView& kv, RunState& s,
                 MtpState& ms, const float* hidden, const ForwardBatch& b, float* logits);

}  // namespace moeinfer
