#include "convert/quantize_model.h"
#include "convert/tokenizer_export.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "convert/deepseek_export.h"
#include "convert/llama_export.h"
#include "convert/tensor_export.h"
#include "formats/gguf_reader.h"
#include "model/model.h"
#include "tensor/quantize.h"

namespace moeinfer {

namespace {

// One tensor of the output before its type is chosen: name, shape, input type, row source.
struct Pending {
  std::string name;
  std::vector<int64_t> ne;
  DType from;
  RowFn rows;
};

// Rows of a (possibly quantized) tensor view as F32. `src_row` maps an output row to an input row
// (the q/k permutation), identity when null.
RowFn view_rows(const TensorView& v, int64_t permute_head_dim) {
  const uint64_t row_bytes = v.row_bytes();
  const int64_t cols = v.cols();
  return [v, row_bytes, cols, permute_head_dim](int64_t row, float* out) {
    const int64_t src = permute_head_dim > 0 ? hf_row_of_gguf_row(row, permute_head_dim) : row;
    dequantize_row(v.type, v.data + static_cast<uint64_t>(src) * row_bytes, cols, out);
  };
}

void check_readable(const std::string& file, const TensorView& v) {
  if (!has_quantizer(v.type) || v.type == DType::kF8_E4M3)
    throw Error(file, "tensor '" + v.name + "'",
                std::string("type ") + dtype_name(v.type) +
                    " cannot be converted (supported: f32, f16, bf16, q8_0, q4_0, q5_0, q4_K, q5_K, q6_K)");
}

std::vector<int64_t> shape_of(const TensorView& v) { return std::vector<int64_t>(v.ne, v.ne + v.n_dims); }

struct Source {
  std::unique_ptr<GgufFile> gguf;
  std::unique_ptr<Model> model;
  std::vector<Pending> tensors;
  PlanModel plan;
  std::vector<std::string> notes;
};

void open_gguf(const std::string& in, Source* s) {
  s->gguf = GgufFile::open(in);
  const GgufFile& g = *s->gguf;
  const std::string arch = g.get_string("general.architecture", "");
  s->plan.n_layers = static_cast<int64_t>(g.get_uint(arch + ".block_count", 0));
  s->plan.n_experts = static_cast<int64_t>(g.get_uint(arch + ".expert_count", 0));
  s->plan.llama_70b = arch == "llama" && s->plan.n_layers == 80 &&
                      g.get_uint(arch + ".attention.head_count", 0) != g.get_uint(arch + ".attention.head_count_kv", 0);
  int64_t quantized = 0;
  for (const TensorView& v : g.tensors()) {
    check_readable(in, v);
    s->tensors.push_back({v.name, shape_of(v), v.type, view_rows(v, 0)});
    quantized += dtype_traits(v.type).block_size > 1;
  }
  if (quantized > 0)
    s->notes.push_back(std::to_string(quantized) + " tensors are already quantized: they are dequantized first "
                       "(requantizing loses precision; quantize from F32/F16/BF16 when you can)");
}

bool is_deepseek(const ModelConfig& c) { return c.arch == "deepseek_v3" || c.arch == "deepseek_v2"; }

// A DeepSeek folder (F32/BF16/FP8 weights): the current MLA layout of llama.cpp's deepseek2, MTP
// layers included.
void open_hf_deepseek(const std::string& in, Source* s) {
  const ModelConfig& c = s->model->config();
  int64_t fp8 = 0;
  for (SourceTensor& t : deepseek_gguf_tensors(c, s->model->weights())) {
    fp8 += t.from == DType::kF8_E4M3;
    s->tensors.push_back({t.name, t.ne, t.from, std::move(t.rows)});
  }
  if (fp8 > 0)
    s->notes.push_back(std::to_string(fp8) + " FP8 tensors are dequantized with their block scales first");
  s->plan.n_layers = c.n_layers + c.n_mtp_layers;
  s->plan.n_experts = c.moe ? c.moe->n_experts : 0;
}

void open_hf(const std::string& in, Source* s) {
  LoadOptions lo;
  lo.require_usable_types = false;
  lo.load_mtp = true;
  s->model = Model::load(in, lo);
  const ModelConfig& c = s->model->config();
  if (is_deepseek(c)) {
    open_hf_deepseek(in, s);
    return;
  }
  if (c.arch != "llama" && c.arch != "mistral")
    throw Error(in, "architectures", "quantize converts Llama, Mistral and DeepSeek directories (got " + c.arch + ")");
  if (c.rope.n_rot != c.attn.head_dim)
    throw Error(in, "head_dim", "llama.cpp requires RoPE over the whole head");
  const TensorSet& set = s->model->tensors();
  for (const LlamaTensorSpec& spec : llama_tensor_specs(c)) {
    const TensorView* v = set.find_tensor(spec.hf_name);
    if (!v) throw Error(in, "tensor '" + spec.hf_name + "'", "required tensor is missing");
    check_readable(in, *v);
    s->tensors.push_back({spec.gguf_name, spec.ne, v->type, view_rows(*v, spec.permute_head_dim)});
  }
  if (c.rope.scaling == RopeScaling::kLlama3) {
    auto factors = std::make_shared<std::vector<float>>(llama3_rope_factors(c.rope));
    s->tensors.push_back({"rope_freqs.weight", {static_cast<int64_t>(factors->size())}, DType::kF32,
                          [factors](int64_t, float* out) { std::copy(factors->begin(), factors->end(), out); }});

  }
  s->plan.n_layers = c.n_layers;
  s->plan.llama_70b = c.n_layers == 80 && c.attn.n_heads != c.attn.n_kv_heads;
}

int64_t output_context(const ModelConfig& c, std::vector<std::string>* notes) {
  const int64_t w = c.attn.sliding_window;
  if (w > 0 && w < c.context_length) {
    notes->push_back("llama.cpp's llama architecture has no sliding-window attention: context_length is set to "
                     "the window, " + std::to_string(w) + " (the model is exact up to it)");
    return w;
  }
  return c.context_length;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

QuantizeResult quantize_model(const std::string& in, const std::string& out, const QuantizeOptions& opts) {
  struct stat st {};
  if (::stat(in.c_str(), &st) != 0)
    throw Error(in, "", "not found: expected a .gguf file or a Hugging Face model directory");
  if (same_file(in, out)) throw Error(out, "", "is the input file; choose another output path");
  const QuantMixInfo& mix = quant_mix_info(opts.mix);
  const bool from_hf = S_ISDIR(st.st_mode);

  Source src;
  if (from_hf) open_hf(in, &src);
  else open_gguf(in, &src);

  // llama.cpp's order, then its type choices
  std::vector<std::string> names;
  for (const Pending& p : src.tensors) names.push_back(p.name);
  const std::vector<size_t> order = llama_cpp_tensor_order(names);
  std::vector<PlanTensor> plan_in;
  for (size_t i : order) plan_in.push_back({src.tensors[i].name, src.tensors[i].ne});
  const std::vector<PlannedType> types = plan_tensor_types(mix, plan_in, src.plan);

  GgufStreamWriter w(out);
  w.open();  // an unwritable OUT fails here, before any output
  if (from_hf) {
    ModelConfig c = src.model->config();
    if (c.name.empty()) {  // llama.cpp's converter names the model after its directory
      std::string dir = in;
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      c.name = dir.substr(dir.find_last_of('/') + 1);
    }
    if (is_deepseek(c)) {
      add_deepseek_gguf_metadata(&w, c, in);
      if (!add_hf_tokenizer_to_gguf(&w, in, c.n_vocab)) {
        // no vocabulary: llama.cpp and moeinfer load the file and take token ids
        w.add_string("tokenizer.ggml.model", "none");
        src.notes.push_back("the directory has no tokenizer: tokenizer.ggml.model is \"none\" (feed token ids)");
      }
    } else {
      add_llama_gguf_metadata(&w, c, output_context(c, &src.notes));
      if (!add_hf_tokenizer_to_gguf(&w, in, c.n_vocab)) {
        add_placeholder_spm_vocab(&w, c.n_vocab);
        src.notes.push_back("the directory has no tokenizer: the GGUF carries a placeholder vocabulary of " +
                            std::to_string(c.n_vocab) + " tokens (feed token ids)");
      }
    }
  } else {
    for (const GgufKV& kv : src.gguf->metadata()) {
      const std::string& k = kv.key;
      if (k == "general.alignment" || k == "general.file_type" || k == "general.quantization_version" ||
          k.rfind("split.", 0) == 0)
        continue;
      w.add(k, kv.value);
    }
  }
  w.add_uint32("general.quantization_version", 2);
  w.add_uint32("general.file_type", mix.llama_ftype);

  QuantizeResult result;
  std::vector<ExportTensor> tensors;
  int shown = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    Pending& p = src.tensors[order[k]];
    const PlannedType& t = types[k];
    tensors.push_back({p.name, p.ne, t.type, p.rows});
    result.tensors.push_back({p.name, p.ne, p.from, t.type, t.wanted});
    if (t.type != t.wanted) {
      ++result.n_fallback;
      if (opts.progress && shown++ < 8)
        std::fprintf(stderr, "quantize: %s: rows of %lld are not a multiple of the %s block (%lld): using %s\n",
                     p.name.c_str(), static_cast<long long>(p.ne[0]), dtype_name(t.wanted),
                     static_cast<long long>(dtype_traits(t.wanted).block_size), dtype_name(t.type));
    }
  }
  if (opts.progress && shown > 8)
    std::fprintf(stderr, "quantize: ... and %d more tensors fall back the same way\n", shown - 8);
  if (opts.progress)
    for (const std::string& n : src.notes) std::fprintf(stderr, "quantize: note: %s\n", n.c_str());

  for (const ExportTensor& t : tensors) {
    uint64_t row = 0;
    dtype_row_bytes(t.type, static_cast<uint64_t>(t.cols()), &row);
    result.out_bytes += row * static_cast<uint64_t>(t.n_rows());
  }
  for (const Pending& p : src.tensors) {
    uint64_t row = 0;
    dtype_row_bytes(p.from, static_cast<uint64_t>(p.ne[0]), &row);
    int64_t rows = 1;
    for (size_t i = 1; i < p.ne.size(); ++i) rows *= p.ne[i];
    result.in_bytes += row * static_cast<uint64_t>(rows);
  }
  ThreadPool pool(opts.threads);
  Progress progress("quantize", result.out_bytes, opts.progress);
  write_gguf_tensors(&w, tensors, pool, &progress);
  return result;
}

}  // namespace moeinfer
