#include "cli/common.h"

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/error.h"

namespace moeinfer {

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string default_model_path() {
  const std::string rel = "models/stories260K.gguf";
  std::vector<std::string> candidates;
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    std::string dir(buf);
    dir = dir.substr(0, dir.rfind('/'));
    candidates.push_back(dir + "/" + rel);
    candidates.push_back(dir + "/../" + rel);
    candidates.push_back(dir + "/../share/moeinfer/" + rel);
  }
  candidates.push_back(std::string(MOEINFER_SOURCE_DIR) + "/" + rel);
  for (const std::string& c : candidates) {
    struct stat st {};
    if (::stat(c.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return c;
  }
  throw Error(rel, "", "the shipped model was not found next to the executable or in the source tree; pass -m MODEL");
}

Runtime open_runtime(const Args& a, bool allow_default, bool load_mtp, int64_t kv_positions, int64_t kv_sequences) {
  Runtime rt;
  std::string path = a.str("--model");
  if (path.empty()) {
    if (!allow_default) throw UsageError("--model", "expected -m MODEL (a .gguf file or a model directory)");
    path = default_model_path();
  }
  const Isa isa = resolve_isa(a.str("--isa"));
  rt.kernels = std::make_unique<Kernels>(isa);
  const int threads = static_cast<int>(a.integer("--threads", ThreadPool::default_threads(), 1, 1024));
  if (threads > ThreadPool::default_threads())
    std::fprintf(stderr, "moeinfer: warning: -t %d exceeds the %d cores: threads will share cores and wait on each other\n",
                 threads, ThreadPool::default_threads());
  double t0 = now_seconds();
  LoadOptions lo;
  lo.load_mtp = load_mtp;
  rt.model = Model::load(path, lo);
  rt.tokenizer = load_model_tokenizer(*rt.model);
  const RepackMode repack = parse_repack_mode(a.str("--repack", "auto"), "--repack");
  rt.pool = std::make_unique<ThreadPool>(threads);
  // Placement under the memory budget: everything resident, or the routed experts in a cache.
  PlacementRequest pr;
  pr.budget = a.has("--mem-budget") ? MemBudget{parse_size(a.str("--mem-budget"), "--mem-budget"), "--mem-budget"}
                                    : default_mem_budget();
  pr.expert_slots = a.has("--expert-slots") ? a.integer("--expert-slots", 0, 1, 1 << 20) : 0;
  const ExpertPolicy policy = parse_expert_policy(a.str("--expert-policy", "lfu"), "--expert-policy");
  const std::string prefetch = a.str("--prefetch", "auto");
  if (prefetch != "auto" && prefetch != "on" && prefetch != "off")
    throw UsageError("--prefetch", "expected auto, on or off, got '" + prefetch + "'");
  const int64_t trained = rt.model->config().context_length > 0 ? rt.model->config().context_length : 4096;
  pr.kv_positions = kv_positions > 0 ? kv_positions
                    : std::max<int64_t>(1, kv_sequences) * (a.has("--ctx") ? a.integer("--ctx", 0, 0, int64_t{1} << 24)
                                                                           : std::min<int64_t>(trained, 4096));
  pr.mla_absorbed = session_mla_absorbed(a);
  rt.placement = plan_placement(*rt.model, pr);
  rt.repack = repack_weights(&rt.model->mutable_weights(), *rt.kernels, repack, *rt.pool, !rt.placement.cache);
  if (rt.placement.cache) {
    ExpertCacheOptions eo;
    eo.slots = rt.placement.slots;
    eo.policy = policy;
    eo.repack = repack != RepackMode::kOff;
    eo.io_threads = pr.io_threads;
    eo.predict = prefetch != "off";
    eo.prefetch = prefetch == "on"    ? ExpertCacheOptions::Prefetch::kOn
                  : prefetch == "off" ? ExpertCacheOptions::Prefetch::kOff
                                      : ExpertCacheOptions::Prefetch::kAuto;
    eo.cache_aware_routing = static_cast<float>(a.number("--cache-aware-routing", 0.0, 0.0, 1e6));
    rt.experts = std::make_unique<ExpertCache>(*rt.model, *rt.kernels, eo);
  } else if (a.has("--cache-aware-routing")) {
    std::fprintf(stderr, "moeinfer: note: --cache-aware-routing has no effect: every expert is resident\n");
  }
  if (rt.placement.moe_layers > 0 || a.has("--mem-budget"))
    std::fprintf(stderr, "moeinfer: %s\n", rt.placement.describe(expert_policy_name(policy)).c_str());
  if (!rt.repack.skipped.empty()) std::fprintf(stderr, "moeinfer: note: weights not repacked: %s\n", rt.repack.skipped.c_str());
  rt.load_seconds = now_seconds() - t0;
  const int64_t ctx = a.integer("--ctx", 0, 0, int64_t{1} << 24);
  if (ctx > rt.model->config().context_length && rt.model->config().context_length > 0)
    std::fprintf(stderr, "moeinfer: warning: --ctx %lld exceeds the model's trained context (%lld): quality past it is not assured\n",
                 static_cast<long long>(ctx), static_cast<long long>(rt.model->config().context_length));
  return rt;
}

std::unique_ptr<Session> Runtime::new_session(const Args& a, int64_t max_batch, int64_t spare_slots) const {
  SessionOptions o;
  o.context = a.integer("--ctx", 0, 0, int64_t{1} << 24);
  o.max_batch = max_batch;
  o.spare_slots = spare_slots;
  o.mla_absorbed = session_mla_absorbed(a);
  o.experts = experts.get();
  return std::make_unique<Session>(*model, *kernels, *pool, o);
}

std::unique_ptr<BatchRunner> Runtime::new_runner(const Args& a, int64_t max_batch, int64_t max_seqs) const {
  RunnerOptions o;
  o.context = a.integer("--ctx", 0, 0, int64_t{1} << 24);
  o.max_batch = std::max<int64_t>(1, max_batch);
  o.max_seqs = std::max<int64_t>(1, max_seqs);
  o.mla_absorbed = session_mla_absorbed(a);
  o.experts = experts.get();
  return std::make_unique<BatchRunner>(*model, *kernels, *pool, o);
}

bool session_mla_absorbed(const Args& a) {
  const std::string mla = a.str("--mla", "absorbed");
  if (mla != "absorbed" && mla != "naive") throw UsageError("--mla", "expected absorbed or naive, got '" + mla + "'");
  return mla == "absorbed";
}

std::vector<int32_t> prompt_ids(const Args& a, const Model& m, const Tokenizer* tok) {
  const std::string which = a.one_of({"--tokens", "--text"});
  if (which == "--tokens") return parse_token_list(a.str("--tokens"), "--tokens");
  if (!tok) throw Error(m.path(), "tokenizer.ggml.model", "the model has no tokenizer; use --tokens");
  std::vector<int32_t> ids = tok->encode(a.str("--text"), /*add_special=*/true, /*parse_special=*/true);
  if (ids.empty()) throw UsageError("--text", "the text gives no tokens");
  return ids;
}

void write_json_output(const Args& a, const std::string& json) {
  const std::string out = a.str("--output");
  if (out.empty()) {
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return;
  }
  FILE* f = std::fopen(out.c_str(), "wb");
  if (!f) throw Error(out, "", "cannot create the output file");
  bool ok = std::fwrite(json.data(), 1, json.size(), f) == json.size() && std::fputc('\n', f) != EOF;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) throw Error(out, "", "writing the output file failed");
}

void stream_out(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

std::string continuation_text(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += tok.token_to_piece(id);
  return s;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "", "cannot open the prompt file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_stdin_text() {
  std::stringstream ss;
  ss << std::cin.rdbuf();
  return ss.str();
}

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }
}  // namespace

bool run_until_interrupted(Generator& gen) {
  g_interrupted = false;
  void (*previous)(int) = std::signal(SIGINT, on_sigint);
  bool interrupted = false;
  while (gen.step()) {
    if (g_interrupted && !interrupted) {
      interrupted = true;
      for (int64_t id = 0; id < gen.size(); ++id) gen.cancel(id);
    }
  }
  std::signal(SIGINT, previous == SIG_ERR ? SIG_DFL : previous);
  return interrupted || g_interrupted;
}

}  // namespace moeinfer
