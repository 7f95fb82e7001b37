#include "convert/hf_export.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/safetensors_stream_writer.h"
#include "tensor/quantize.h"

namespace moeinfer {

namespace {

constexpr int64_t kFp8Block = 128;  // DeepSeek-V3 weight_block_size [128, 128]
constexpr uint64_t kChunkBytes = uint64_t{32} << 20;

// 1e-05 rather than 9.99999974737875e-06 for a float epsilon.
double tidy(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", static_cast<double>(v));
  return std::strtod(buf, nullptr);
}

nlohmann::ordered_json eos_json(const ModelConfig& c) {
  if (c.eos_ids.size() == 1) return c.eos_ids[0];
  return c.eos_ids;
}

nlohmann::ordered_json llama_config(const ModelConfig& c, const std::string& torch_dtype) {
  using J = nlohmann::ordered_json;
  const bool mistral = c.arch == "mistral";
  J j;
  j["architectures"] = J::array({mistral ? "MistralForCausalLM" : "LlamaForCausalLM"});
  j["model_type"] = mistral ? "mistral" : "llama";
  j["vocab_size"] = c.n_vocab;
  j["hidden_size"] = c.dim;
  j["intermediate_size"] = c.ffn_dim;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.attn.n_heads;
  j["num_key_value_heads"] = c.attn.n_kv_heads;
  j["head_dim"] = c.attn.head_dim;
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = c.context_length;
  j["initializer_range"] = 0.02;
  j["rms_norm_eps"] = tidy(c.norm_eps);
  j["rope_theta"] = c.rope.theta;
  if (c.rope.scaling == RopeScaling::kLlama3) {
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope.factor},
                         {"low_freq_factor", c.rope.low_freq_factor},
                         {"high_freq_factor", c.rope.high_freq_factor},
                         {"original_max_position_embeddings", c.rope.original_context}};
  } else if (c.rope.scaling == RopeScaling::kLinear) {
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.rope.factor}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  if (mistral) {
    if (c.attn.sliding_window > 0) j["sliding_window"] = c.attn.sliding_window;
    else j["sliding_window"] = nullptr;
  } else {
    j["attention_bias"] = false;
    j["mlp_bias"] = false;
  }
  j["tie_word_embeddings"] = c.tied_embeddings;
  j["bos_token_id"] = c.bos_id;
  j["eos_token_id"] = eos_json(c);
  j["torch_dtype"] = torch_dtype;
  j["use_cache"] = true;
  return j;
}

nlohmann::ordered_json deepseek_config(const ModelConfig& c, const std::string& torch_dtype, bool fp8) {
  using J = nlohmann::ordered_json;
  const bool v3 = c.arch == "deepseek_v3";
  const MlaConfig& m = *c.mla;
  const MoeConfig& e = *c.moe;
  J j;
  j["architectures"] = J::array({v3 ? "DeepseekV3ForCausalLM" : "DeepseekV2ForCausalLM"});
  j["model_type"] = c.arch;
  j["vocab_size"] = c.n_vocab;
  j["hidden_size"] = c.dim;
  j["intermediate_size"] = c.ffn_dim;
  j["moe_intermediate_size"] = e.expert_ffn_dim;
  j["num_hidden_layers"] = c.n_layers;
  j["num_nextn_predict_layers"] = c.n_mtp_layers;
  j["num_attention_heads"] = c.attn.n_heads;
  j["num_key_value_heads"] = c.attn.n_heads;
  j["n_shared_experts"] = e.n_shared_experts;
  j["n_routed_experts"] = e.n_experts;
  j["ep_size"] = 1;
  j["routed_scaling_factor"] = tidy(e.routed_scaling_factor);
  j["kv_lora_rank"] = m.kv_lora_rank;
  if (m.q_lora_rank > 0) j["q_lora_rank"] = m.q_lora_rank;
  else j["q_lora_rank"] = nullptr;
  j["qk_rope_head_dim"] = m.qk_rope_dim;
  j["v_head_dim"] = m.v_head_dim;
  j["qk_nope_head_dim"] = m.qk_nope_dim;
  j["topk_method"] = v3 ? "noaux_tc" : (e.n_group > 1 ? "group_limited_greedy" : "greedy");
  j["n_group"] = e.n_group;
  j["topk_group"] = e.topk_group;
  j["num_experts_per_tok"] = e.n_experts_per_tok;
  j["moe_layer_freq"] = 1;
  j["first_k_dense_replace"] = e.first_dense_layers;
  j["norm_topk_prob"] = e.norm_topk_prob;
  j["scoring_func"] = e.scoring == MoeScoring::kSigmoid ? "sigmoid" : "softmax";
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = c.context_length;
  j["initializer_range"] = 0.02;
  j["rms_norm_eps"] = tidy(c.norm_eps);
  j["rope_theta"] = c.rope.theta;
  if (c.rope.scaling == RopeScaling::kYarn) {
    j["rope_scaling"] = {{"beta_fast", c.rope.beta_fast},
                         {"beta_slow", c.rope.beta_slow},
                         {"factor", c.rope.factor},
                         {"mscale", c.rope.mscale},
                         {"mscale_all_dim", c.rope.mscale_all_dim},
                         {"original_max_position_embeddings", c.rope.original_context},
                         {"type", "yarn"}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["attention_bias"] = false;
  j["tie_word_embeddings"] = c.tied_embeddings;
  j["bos_token_id"] = c.bos_id;
  j["eos_token_id"] = eos_json(c);
  j["torch_dtype"] = torch_dtype;
  j["use_cache"] = true;
  if (fp8)
    j["quantization_config"] = {{"activation_scheme", "dynamic"},
                                {"fmt", "e4m3"},
                                {"quant_method", "fp8"},
                                {"weight_block_size", {kFp8Block, kFp8Block}}};
  return j;
}

DType plain_dtype(const std::string& d) {
  if (d == "F16") return DType::kF16;
  if (d == "BF16") return DType::kBF16;
  return DType::kF32;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Writes an F8_E4M3 tensor in groups of 128 rows; fills grid [ceil(rows/128)][ceil(cols/128)].
void write_fp8(SafetensorsStreamWriter* w, const HfTensor& t, ThreadPool& pool, Progress* progress,
               std::vector<float>* grid) {
  const int64_t rows = t.n_rows(), cols = t.cols();
  const int64_t grid_c = ceil_div(cols, kFp8Block), groups = ceil_div(rows, kFp8Block);
  grid->assign(static_cast<size_t>(groups * grid_c), 1.0f);
  const int64_t groups_per_chunk =
      std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / static_cast<uint64_t>(kFp8Block * cols)));
  std::vector<uint8_t> bufs[2];
  int k = 0;
  BackgroundWriter writer;
  for (int64_t g0 = 0; g0 < groups; g0 += groups_per_chunk) {
    const int64_t ng = std::min(groups_per_chunk, groups - g0);
    const int64_t r0 = g0 * kFp8Block, nr = std::min(rows, (g0 + ng) * kFp8Block) - r0;
    std::vector<uint8_t>& buf = bufs[k];
    k ^= 1;
    buf.resize(static_cast<size_t>(nr * cols));
    pool.run([&](int th, int nth) {
      int64_t b = 0, e = 0;
      split_range(ng, th, nth, 1, &b, &e);
      std::vector<float> x;
      for (int64_t g = g0 + b; g < g0 + e; ++g) {
        const int64_t gr0 = g * kFp8Block, gn = std::min(kFp8Block, rows - gr0);
        x.resize(static_cast<size_t>(gn * cols));
        for (int64_t r = 0; r < gn; ++r) t.rows(gr0 + r, x.data() + r * cols);
        for (int64_t cb = 0; cb < grid_c; ++cb) {
          const int64_t c0 = cb * kFp8Block, c1 = std::min(cols, c0 + kFp8Block);
          float amax = 0.0f;
          for (int64_t r = 0; r < gn; ++r)
            for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(x[r * cols + c]));
          const float s = amax > 0.0f ? amax / 448.0f : 1.0f;
          (*grid)[static_cast<size_t>(g * grid_c + cb)] = s;
          for (int64_t r = 0; r < gn; ++r)
            for (int64_t c = c0; c < c1; ++c)
              buf[static_cast<size_t>((gr0 - r0 + r) * cols + c)] = f32_to_fp8_e4m3(x[r * cols + c] / s);
        }
      }
    });
    writer.submit([w, &buf] { w->write_data(buf.data(), buf.size()); });
    if (progress) progress->advance(buf.size(), t.name);
  }
  writer.wait();
}

void write_plain(SafetensorsStreamWriter* w, const HfTensor& t, ThreadPool& pool, Progress* progress) {
  ExportTensor e{t.name, {t.cols(), t.n_rows()}, plain_dtype(t.dtype), t.rows};
  const int64_t rows = t.n_rows();
  const uint64_t row_bytes = static_cast<uint64_t>(t.cols()) * safetensors_dtype_size(t.dtype);
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(rows, static_cast<int64_t>(kChunkBytes / row_bytes)));
  std::vector<uint8_t> bufs[2];
  int k = 0;
  BackgroundWriter writer;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    std::vector<uint8_t>& buf = bufs[k];
    k ^= 1;
    buf.resize(static_cast<size_t>(n) * row_bytes);
    encode_rows(e, r0, n, buf.data(), pool);
    writer.submit([w, &buf] { w->write_data(buf.data(), buf.size()); });
    if (progress) progress->advance(buf.size(), t.name);
  }
  writer.wait();
}

std::vector<int64_t> grid_shape(const HfTensor& t) {
  return {ceil_div(t.n_rows(), kFp8Block), ceil_div(t.cols(), kFp8Block)};
}

}  // namespace

int64_t HfTensor::n_rows() const {
  int64_t r = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) r *= shape[i];
  return r;
}

uint64_t hf_tensor_bytes(const HfTensor& t) {
  uint64_t n = static_cast<uint64_t>(t.n_rows()) * static_cast<uint64_t>(t.cols()) * safetensors_dtype_size(t.dtype);
  if (t.dtype == "F8_E4M3") {
    const std::vector<int64_t> g = grid_shape(t);
    n += static_cast<uint64_t>(g[0] * g[1]) * 4;
  }
  return n;
}

std::string hf_config_json(const ModelConfig& c, const std::string& torch_dtype, bool fp8) {
  const bool deepseek = c.arch == "deepseek_v3" || c.arch == "deepseek_v2";
  return (deepseek ? deepseek_config(c, torch_dtype, fp8) : llama_config(c, torch_dtype)).dump(2) + "\n";
}

uint8_t f32_to_fp8_e4m3(float x) {
  if (std::isnan(x)) return 0x7f;
  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  float a = std::fabs(x);
  if (a >= 448.0f) return sign | 0x7e;
  if (a < 0.015625f) {  // below 2^-6: subnormals m/8 · 2^-6, m = 0..7 (8 rounds up to the first normal)
    const int m = static_cast<int>(std::nearbyint(a * 512.0f));
    return sign | static_cast<uint8_t>(m);
  }
  int e = 0;
  const float fr = std::frexp(a, &e);  // a = fr · 2^e, fr in [0.5, 1)
  int mant = static_cast<int>(std::nearbyint((fr * 2.0f - 1.0f) * 8.0f));
  int exp = e - 1 + 7;
  if (mant == 8) {
    mant = 0;
    ++exp;
  }
  const int code = (exp << 3) | mant;
  return sign | static_cast<uint8_t>(code > 0x7e ? 0x7e : code);
}

HfWriteResult write_hf_checkpoint(const std::string& dir, const std::string& config_json,
                                  const std::vector<HfTensor>& tensors, ThreadPool& pool, Progress* progress,
                                  uint64_t shard_bytes) {
  HfWriteResult result;
  {
    const std::string path = dir + "/config.json";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(path, "", std::string("cannot create the file: ") + std::strerror(errno));
    bool ok = std::fwrite(config_json.data(), 1, config_json.size(), f) == config_json.size();
    ok = std::fclose(f) == 0 && ok;
    if (!ok) throw Error(path, "", "write failed");
  }
  // Shards: consecutive tensors, a new one when the next tensor would pass shard_bytes.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t in_shard = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t b = hf_tensor_bytes(tensors[i]);
    if (!shards.back().empty() && in_shard + b > shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(i);
    in_shard += b;
  }
  const size_t n = shards.size();
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (size_t s = 0; s < n; ++s) {
    char name[64];
    if (n == 1) std::snprintf(name, sizeof name, "model.safetensors");
    else std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, n);
    SafetensorsStreamWriter w(dir + "/" + name);
    w.set_metadata("format", "pt");
    for (size_t i : shards[s]) {
      const HfTensor& t = tensors[i];
      const uint64_t elems = static_cast<uint64_t>(t.n_rows()) * static_cast<uint64_t>(t.cols());
      w.add_tensor_info(t.name, t.dtype, t.shape, elems * safetensors_dtype_size(t.dtype));
      weight_map[t.name] = name;
      if (t.dtype == "F8_E4M3") {
        const std::vector<int64_t> g = grid_shape(t);
        w.add_tensor_info(t.name + "_scale_inv", "F32", g, static_cast<uint64_t>(g[0] * g[1]) * 4);
        weight_map[t.name + "_scale_inv"] = name;
      }
    }
    w.write_header();
    for (size_t i : shards[s]) {
      const HfTensor& t = tensors[i];
      if (t.dtype == "F8_E4M3") {
        std::vector<float> grid;
        write_fp8(&w, t, pool, progress, &grid);
        w.write_data(grid.data(), grid.size() * sizeof(float));
        if (progress) progress->advance(grid.size() * sizeof(float), t.name + "_scale_inv");
      } else {
        write_plain(&w, t, pool, progress);
      }
    }
    result.bytes += w.data_bytes();
    w.finish();
    ++result.n_files;
  }
  if (n > 1) {
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", result.bytes}};
    index["weight_map"] = weight_map;
    const std::string path = dir + "/model.safetensors.index.json";
    const std::string text = index.dump(2) + "\n";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(path, "", std::string("cannot create the file: ") + std::strerror(errno));
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = std::fclose(f) == 0 && ok;
    if (!ok) throw Error(path, "", "write failed");
  }
  if (progress) progress->finish();
  return result;
}

}  // namespace moeinfer
