#include "convert/make_model.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "base/error.h"
#include "convert/deepseek_export.h"
#include "convert/hf_export.h"
#include "convert/llama_export.h"
#include "convert/quant_mix.h"
#include "convert/tensor_export.h"
#include "convert/router_skew.h"
#include "model/arch_registry.h"

namespace moeinfer {

namespace {

constexpr uint64_t kShardBytes = uint64_t{4} << 30;  // HF directories: a new shard past 4 GiB

// --- random rows ---------------------------------------------------------------------------------

uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ull;
  return h;
}

enum class Init {
  kMatrix,  // N(0, 1/cols): y = W·x keeps the scale of x
  kNorm,    // 1 + N(0, 0.02²)
  kBias,    // N(0, 0.01²): DeepSeek-V3's e_score_correction_bias
};

// Row `row` of a tensor keyed by `key_name`: its own splitmix64 stream, Box-Muller normals. With
// permute_head_dim > 0 the rows are those of the HF layout permuted to GGUF's (llama_export.h).
RowFn random_rows(uint64_t seed, const std::string& key_name, int64_t cols, Init init, int64_t permute_head_dim = 0) {
  const uint64_t key = fnv1a(key_name) ^ (seed * 0xD1B54A32D192ED03ull);
  const float std_dev = init == Init::kMatrix ? 1.0f / std::sqrt(static_cast<float>(cols))
                        : init == Init::kNorm ? 0.02f
                                              : 0.01f;
  const float mean = init == Init::kNorm ? 1.0f : 0.0f;
  return [key, cols, std_dev, mean, permute_head_dim](int64_t row, float* out) {
    const int64_t r = permute_head_dim > 0 ? hf_row_of_gguf_row(row, permute_head_dim) : row;
    uint64_t s = key ^ (static_cast<uint64_t>(r) * 0x9E3779B97F4A7C15ull);
    splitmix64(&s);
    constexpr float kTwoPi = 6.283185307179586f;
    for (int64_t i = 0; i < cols; i += 2) {
      const uint64_t bits = splitmix64(&s);
      const float u1 = (static_cast<float>(bits >> 40) + 1.0f) * 0x1p-24f;  // (0, 1]
      const float u2 = static_cast<float>((bits >> 16) & 0xffffff) * 0x1p-24f;  // [0, 1)
      const float rad = std::sqrt(-2.0f * std::log(u1)) * std_dev;
      out[i] = mean + rad * std::cos(kTwoPi * u2);
      if (i + 1 < cols) out[i + 1] = mean + rad * std::sin(kTwoPi * u2);
    }
  };
}

int64_t numel(const std::vector<int64_t>& v) {
  int64_t n = 1;
  for (int64_t d : v) n *= d;
  return n;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// --- DeepSeek tensors (HF names, arch_deepseek.cc's binding) -----------------------------------

struct DsSpec {
  std::string name;
  std::vector<int64_t> shape;  // HF order
  Init init;
  bool linear;  // an nn.Linear weight: F8_E4M3 in FP8 checkpoints
  bool f32;     // kept in F32 (the router bias)
};

void deepseek_layer(const ModelConfig& c, int64_t index, double skew, std::vector<DsSpec>* v) {
  const MlaConfig& m = *c.mla;
  const int64_t d = c.dim, nh = c.attn.n_heads, qk = m.qk_nope_dim + m.qk_rope_dim;
  const std::string p = "model.layers." + std::to_string(index) + ".";
  auto lin = [&](const std::string& n, int64_t out, int64_t in) { v->push_back({p + n, {out, in}, Init::kMatrix, true, false}); };
  auto norm = [&](const std::string& n, int64_t len) { v->push_back({p + n, {len}, Init::kNorm, false, false}); };
  norm("input_layernorm.weight", d);
  if (m.q_lora_rank > 0) {
    lin("self_attn.q_a_proj.weight", m.q_lora_rank, d);
    norm("self_attn.q_a_layernorm.weight", m.q_lora_rank);
    lin("self_attn.q_b_proj.weight", nh * qk, m.q_lora_rank);
  } else {
    lin("self_attn.q_proj.weight", nh * qk, d);
  }
  lin("self_attn.kv_a_proj_with_mqa.weight", m.kv_lora_rank + m.qk_rope_dim, d);
  norm("self_attn.kv_a_layernorm.weight", m.kv_lora_rank);
  lin("self_attn.kv_b_proj.weight", nh * (m.qk_nope_dim + m.v_head_dim), m.kv_lora_rank);
  lin("self_attn.o_proj.weight", d, nh * m.v_head_dim);
  norm("post_attention_layernorm.weight", d);
  auto ffn = [&](const std::string& q, int64_t f) {
    lin(q + "gate_proj.weight", f, d);
    lin(q + "up_proj.weight", f, d);
    lin(q + "down_proj.weight", d, f);
  };
  if (!c.layer_is_moe(index)) {
    ffn("mlp.", c.ffn_dim);
    return;
  }
  const MoeConfig& e = *c.moe;
  v->push_back({p + "mlp.gate.weight", {e.n_experts, d}, Init::kMatrix, false, false});
  if (c.arch == "deepseek_v3" || skew > 0)
    v->push_back({p + "mlp.gate.e_score_correction_bias", {e.n_experts}, Init::kBias, false, true});
  for (int64_t x = 0; x < e.n_experts; ++x) ffn("mlp.experts." + std::to_string(x) + ".", e.expert_ffn_dim);
  if (e.n_shared_experts > 0) ffn("mlp.shared_experts.", e.n_shared_experts * e.expert_ffn_dim);
}

std::vector<DsSpec> deepseek_specs(const ModelConfig& c, double skew) {
  const int64_t d = c.dim;
  std::vector<DsSpec> v;
  v.push_back({"model.embed_tokens.weight", {c.n_vocab, d}, Init::kMatrix, false, false});
  for (int64_t i = 0; i < c.n_layers; ++i) deepseek_layer(c, i, skew, &v);
  v.push_back({"model.norm.weight", {d}, Init::kNorm, false, false});
  if (!c.tied_embeddings) v.push_back({"lm_head.weight", {c.n_vocab, d}, Init::kMatrix, false, false});
  for (int64_t k = 0; k < c.n_mtp_layers; ++k) {
    const int64_t index = c.n_layers + k;
    const std::string p = "model.layers." + std::to_string(index) + ".";
    v.push_back({p + "embed_tokens.weight", {c.n_vocab, d}, Init::kMatrix, false, false});
    v.push_back({p + "enorm.weight", {d}, Init::kNorm, false, false});
    v.push_back({p + "hnorm.weight", {d}, Init::kNorm, false, false});
    v.push_back({p + "eh_proj.weight", {d, 2 * d}, Init::kMatrix, true, false});
    deepseek_layer(c, index, skew, &v);
    v.push_back({p + "shared_head.norm.weight", {d}, Init::kNorm, false, false});
    v.push_back({p + "shared_head.head.weight", {c.n_vocab, d}, Init::kMatrix, false, false});
  }
  return v;
}

// Rows of a DeepSeek tensor: random, except a router bias under --router-skew.
RowFn deepseek_rows(const ModelConfig& c, uint64_t seed, double skew, const std::string& name, int64_t cols, Init init) {
  const std::string suffix = ".mlp.gate.e_score_correction_bias";
  if (skew > 0 && c.moe && ends_with(name, suffix)) {
    const int64_t layer = std::stoll(name.substr(13, name.size() - suffix.size() - 13));  // "model.layers.N"
    auto bias = std::make_shared<std::vector<float>>(skew_router_bias(*c.moe, skew, seed, layer));
    return [bias](int64_t, float* out) { std::copy(bias->begin(), bias->end(), out); };
  }
  return random_rows(seed, name, cols, init);
}

// --- output directory ------------------------------------------------------------------------

bool dir_is_empty(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") empty = false;
  }
  ::closedir(d);
  return empty;
}

// Creates OUT (or accepts an empty directory); on failure later, removes what was written.
class OutputDir {
 public:
  explicit OutputDir(std::string dir) : dir_(std::move(dir)) {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode) || !dir_is_empty(dir_))
        throw Error(dir_, "", "exists and is not an empty directory; give a new path (or one ending in .gguf)");
    } else if (::mkdir(dir_.c_str(), 0755) != 0) {
      throw Error(dir_, "", std::string("cannot create the directory: ") + std::strerror(errno));
    } else {
      created_ = true;
    }
  }
  ~OutputDir() {
    if (done_) return;
    if (DIR* d = ::opendir(dir_.c_str())) {  // only names this writer uses
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n == "config.json" || n == "model.safetensors.index.json" ||
            (n.rfind("model", 0) == 0 && (ends_with(n, ".safetensors") || ends_with(n, ".safetensors.part"))))
          ::unlink((dir_ + "/" + n).c_str());
      }
      ::closedir(d);
    }
    if (created_) ::rmdir(dir_.c_str());
  }
  void done() { done_ = true; }

 private:
  std::string dir_;
  bool created_ = false, done_ = false;
};

std::string torch_dtype_of(const std::string& type) {
  if (type == "f32") return "float32";
  if (type == "f16") return "float16";
  return "bfloat16";
}

std::string st_dtype_of(const std::string& type) {
  if (type == "f32") return "F32";
  if (type == "f16") return "F16";
  return "BF16";
}

void announce(const MakeModelOptions& o, const ModelConfig& c, int64_t params, const std::string& type,
              const std::string& out, const char* what, uint64_t bytes) {
  if (!o.progress) return;
  std::fprintf(stderr, "make-model: %s (%s), %.3fB parameters, %s, seed %llu -> %s (%s, %s)\n", c.name.c_str(),
               c.arch.c_str(), static_cast<double>(params) / 1e9, type.c_str(),
               static_cast<unsigned long long>(o.seed), out.c_str(), what, human_bytes(bytes).c_str());
}

void note(const MakeModelOptions& o, const std::string& text) {
  if (o.progress) std::fprintf(stderr, "make-model: note: %s\n", text.c_str());
}

// --- Llama / Mistral ---------------------------------------------------------------------------

// The tensors in llama.cpp's order with the mix's types (quant_mix.h); counts parameters and bytes.
std::vector<ExportTensor> typed_gguf_tensors(const QuantMixInfo& mix, std::vector<SourceTensor> src,
                                             const PlanModel& pm, MakeModelResult* r) {
  std::vector<std::string> names;
  for (const SourceTensor& t : src) names.push_back(t.name);
  const std::vector<size_t> order = llama_cpp_tensor_order(names);
  std::vector<PlanTensor> plan_in;
  for (size_t i : order) plan_in.push_back({src[i].name, src[i].ne});
  const std::vector<PlannedType> types = plan_tensor_types(mix, plan_in, pm);
  std::vector<ExportTensor> tensors;
  for (size_t k = 0; k < order.size(); ++k) {
    SourceTensor& t = src[order[k]];
    r->n_params += numel(t.ne);
    uint64_t row = 0;
    dtype_row_bytes(types[k].type, static_cast<uint64_t>(t.ne[0]), &row);
    r->bytes += row * static_cast<uint64_t>(numel(t.ne) / t.ne[0]);
    tensors.push_back({t.name, t.ne, types[k].type, std::move(t.rows)});
  }
  return tensors;
}

// The common end of a GGUF: quantization keys, then the tensors with progress.
void finish_gguf(GgufStreamWriter* w, const QuantMixInfo& mix, const std::vector<ExportTensor>& tensors,
                 const MakeModelOptions& o, MakeModelResult* r) {
  w->add_uint32("general.quantization_version", 2);
  w->add_uint32("general.file_type", mix.llama_ftype);
  ThreadPool pool(o.threads);
  Progress progress("make-model", r->bytes, o.progress);
  write_gguf_tensors(w, tensors, pool, &progress);
  r->n_files = 1;
}

MakeModelResult llama_gguf(const ModelConfig& c, const std::string& out, const MakeModelOptions& o) {
  const std::string type = o.type.empty() ? "f16" : o.type;
  const QuantMixInfo* mix = find_quant_mix(type);
  if (!mix)
    throw UsageError("--type", "a GGUF holds " + quant_mix_names() + " (fp8 is for DeepSeek directories), got '" +
                                   type + "'");
  std::vector<SourceTensor> src;
  for (const LlamaTensorSpec& s : llama_tensor_specs(c)) {
    const Init init = s.kind == LlamaTensorSpec::kNorm ? Init::kNorm : Init::kMatrix;
    src.push_back({s.gguf_name, s.ne, DType::kF32, random_rows(o.seed, s.gguf_name, s.ne[0], init, s.permute_head_dim)});
  }
  PlanModel pm;
  pm.n_layers = c.n_layers;
  pm.llama_70b = c.n_layers == 80 && c.attn.n_heads != c.attn.n_kv_heads;
  MakeModelResult r;
  r.format = "gguf";
  const std::vector<ExportTensor> tensors = typed_gguf_tensors(*mix, std::move(src), pm, &r);
  const int64_t ctx = c.attn.sliding_window > 0 ? std::min(c.context_length, c.attn.sliding_window) : c.context_length;
  if (o.dry_run) {
    announce(o, c, r.n_params, mix->name, out, "GGUF", r.bytes);
    return r;
  }
  GgufStreamWriter w(out);
  w.open();  // an unwritable OUT fails before any output
  announce(o, c, r.n_params, mix->name, out, "GGUF", r.bytes);
  if (ctx < c.context_length)
    note(o, "llama.cpp's llama architecture has no sliding-window attention: context_length = the window, " +
                std::to_string(ctx));
  if (c.rope.scaling == RopeScaling::kLlama3)
    note(o, "Llama 3 rope scaling is left out of the GGUF (rope_freqs.weight; random weights do not need it)");
  add_llama_gguf_metadata(&w, c, ctx);
  add_placeholder_spm_vocab(&w, c.n_vocab);
  finish_gguf(&w, *mix, tensors, o, &r);
  return r;
}

MakeModelResult write_hf(const ModelConfig& c, const std::string& out, const MakeModelOptions& o,
                         const std::vector<HfTensor>& tensors, const std::string& type, bool fp8) {
  MakeModelResult r;
  r.format = "hf";
  for (const HfTensor& t : tensors) {
    r.n_params += numel(t.shape);
    r.bytes += hf_tensor_bytes(t);
  }
  if (o.dry_run) {
    announce(o, c, r.n_params, type, out, "Hugging Face directory", r.bytes);
    return r;
  }
  OutputDir dir(out);
  announce(o, c, r.n_params, type, out, "Hugging Face directory", r.bytes);
  ThreadPool pool(o.threads);
  Progress progress("make-model", r.bytes, o.progress);
  const HfWriteResult w = write_hf_checkpoint(out, hf_config_json(c, torch_dtype_of(type), fp8), tensors, pool,
                                              &progress, kShardBytes);
  dir.done();
  r.n_files = w.n_files;
  r.bytes = w.bytes;
  return r;
}

MakeModelResult llama_hf(const ModelConfig& c, const std::string& out, const MakeModelOptions& o) {
  const std::string type = o.type.empty() ? "bf16" : o.type;
  if (type != "f32" && type != "f16" && type != "bf16")
    throw UsageError("--type", "a Hugging Face directory holds f32, f16 or bf16 Llama weights; for " + type +
                                   " give an OUT ending in .gguf");
  std::vector<HfTensor> tensors;
  for (const LlamaTensorSpec& s : llama_tensor_specs(c)) {
    const Init init = s.kind == LlamaTensorSpec::kNorm ? Init::kNorm : Init::kMatrix;
    std::vector<int64_t> shape(s.ne.rbegin(), s.ne.rend());
    tensors.push_back({s.hf_name, shape, st_dtype_of(type), random_rows(o.seed, s.gguf_name, s.ne[0], init)});
  }
  return write_hf(c, out, o, tensors, type, false);
}

MakeModelResult deepseek_hf(const ModelConfig& c, const std::string& out, const MakeModelOptions& o) {
  const std::string type = o.type.empty() ? "bf16" : o.type;
  if (type != "f32" && type != "f16" && type != "bf16" && type != "fp8")
    throw UsageError("--type", "a DeepSeek directory holds bf16, f16, f32 or fp8 weights, got '" + type + "'");
  const bool fp8 = type == "fp8";
  const std::string plain = fp8 ? "BF16" : st_dtype_of(type);
  std::vector<HfTensor> tensors;
  for (const DsSpec& s : deepseek_specs(c, o.router_skew)) {
    const std::string dtype = s.f32 ? "F32" : (fp8 && s.linear) ? "F8_E4M3" : plain;
    tensors.push_back({s.name, s.shape, dtype, deepseek_rows(c, o.seed, o.router_skew, s.name, s.shape.back(), s.init)});
  }
  return write_hf(c, out, o, tensors, type, fp8);
}

// Views without data over the tensors of deepseek_specs, so that the HF binder (arch_deepseek.cc)
// lays out the model and deepseek_export.h maps it to llama.cpp's names; rows come from the
// generator keyed by the HF name, so a GGUF and a directory with the same seed hold the same model.
class SpecTensorSet : public TensorSet {
 public:
  explicit SpecTensorSet(const std::vector<DsSpec>& specs) {
    static const uint8_t kNoData = 0;
    for (const DsSpec& s : specs) {
      TensorView v;
      v.name = s.name;
      v.type = DType::kF32;
      v.data = &kNoData;  // never read: rows come from random_rows
      v.n_dims = static_cast<int>(s.shape.size());
      for (int d = 0; d < 4; ++d) v.ne[d] = d < v.n_dims ? s.shape[s.shape.size() - 1 - d] : 1;
      index_[s.name] = views_.size();
      views_.push_back(v);
    }
  }
  const std::string& path() const override { return path_; }
  const std::vector<TensorView>& tensors() const override { return views_; }
  const TensorView* find_tensor(const std::string& name) const override {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &views_[it->second];
  }

 private:
  std::string path_ = "make-model";
  std::vector<TensorView> views_;
  std::map<std::string, size_t> index_;
};

MakeModelResult deepseek_gguf(const ModelConfig& c, const std::string& out, const MakeModelOptions& o) {
  const std::string type = o.type.empty() ? "f16" : o.type;
  const QuantMixInfo* mix = find_quant_mix(type);
  if (!mix)
    throw UsageError("--type", "a DeepSeek GGUF holds " + quant_mix_names() +
                                   " (fp8 is for DeepSeek directories), got '" + type + "'");
  const std::vector<DsSpec> specs = deepseek_specs(c, o.router_skew);
  std::map<std::string, Init> init_of;
  for (const DsSpec& s : specs) init_of[s.name] = s.init;
  const SpecTensorSet set(specs);
  ModelWeights weights;
  const ArchSpec* arch = find_arch_hf("", c.arch);
  arch->bind(set, WeightNaming::kHf, c, BindOptions{false, true}, &weights);
  const uint64_t seed = o.seed;
  const double skew = o.router_skew;
  const RowsOf rows_of = [&init_of, &c, seed, skew](const TensorView& v) {
    return deepseek_rows(c, seed, skew, v.name, v.cols(), init_of.at(v.name));
  };
  PlanModel pm;
  pm.n_layers = c.n_layers + c.n_mtp_layers;
  pm.n_experts = c.moe ? c.moe->n_experts : 0;
  MakeModelResult r;
  r.format = "gguf";
  const std::vector<ExportTensor> tensors = typed_gguf_tensors(*mix, deepseek_gguf_tensors(c, weights, rows_of), pm, &r);
  if (o.dry_run) {
    announce(o, c, r.n_params, mix->name, out, "GGUF", r.bytes);
    return r;
  }
  GgufStreamWriter w(out);
  w.open();
  announce(o, c, r.n_params, mix->name, out, "GGUF", r.bytes);
  add_deepseek_gguf_metadata(&w, c, out);
  w.add_string("tokenizer.ggml.model", "none");  // random weights: token ids only
  finish_gguf(&w, *mix, tensors, o, &r);
  return r;
}

}  // namespace

MakeModelResult make_model(const ModelConfig& c, const std::string& out, const MakeModelOptions& o) {
  const bool gguf = ends_with(out, ".gguf");
  if (c.arch == "llama" || c.arch == "mistral") return gguf ? llama_gguf(c, out, o) : llama_hf(c, out, o);
  if (c.arch == "deepseek_v3" || c.arch == "deepseek_v2") {
    return gguf ? deepseek_gguf(c, out, o) : deepseek_hf(c, out, o);
  }
  throw UsageError("--arch", "expected llama, mistral, deepseek_v3 or deepseek_v2, got '" + c.arch + "'");
}

}  // namespace moeinfer
