// moeinfer bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r 3] [--json] [--profile]
// Prefill: p tokens in one batch from an empty cache. Decode: n tokens one at a time from an empty
// cache. Each is repeated r times; min / median / max are reported. The roofline line compares the
// bytes a decode step reads (weights; the average KV read is reported apart) times tokens/s with a
// read bandwidth measured here with the same thread count. On a shared machine that bandwidth moves
// by tens of percent within a minute, so each decode repetition is followed by a pass of a read
// probe (engine/bandwidth.h: the better of a plain and a prefetching read), and roofline_pct is
// the median over repetitions of (that repetition's GB/s ÷ its pass); roofline_pct_vs_best
// compares the median decode with the best pass of the whole run instead (the stricter figure).
// This is measurement, not a test.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "base/profiler.h"
#include "base/json_writer.h"
#include "cli/bench_accuracy.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/model_stats.h"
#include "engine/batch_runner.h"
#include "engine/bandwidth.h"

namespace moeinfer {

namespace {

struct Spread {
  double min, median, max;
};

Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {v.front(), med, v.back()};
}

uint64_t peak_rss_bytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

std::vector<int32_t> bench_tokens(int64_t n, int64_t n_vocab) {
  std::vector<int32_t> t(n);
  for (int64_t i = 0; i < n; ++i) t[i] = static_cast<int32_t>((i * 7919 + 1) % n_vocab);
  return t;
}

// One line per finished run on a terminal (overwritten in place); only the last line otherwise.
void progress(const char* what, int done, int total) {
  static const bool tty = isatty(2);
  if (tty) std::fprintf(stderr, "\rmoeinfer: %s %d/%d%s", what, done, total, done == total ? "\n" : "");
  else if (done == total) std::fprintf(stderr, "moeinfer: %s: %d runs done\n", what, total);
}

// Exclusive wall time per op kind over the measured runs of one test, per token.
struct OpProfile {
  std::array<double, static_cast<int>(OpKind::kCount)> seconds{};
  double total = 0.0;  // wall time of the runs
  int64_t tokens = 0;
};

void print_profile(const char* test, const OpProfile& p) {
  double known = 0.0;
  for (double v : p.seconds) known += v;
  std::printf("profile    %s: %.3f ms/token\n", test, 1e3 * p.total / static_cast<double>(p.tokens));
  for (int k = 0; k < static_cast<int>(OpKind::kCount); ++k)
    if (p.seconds[k] > 0.0)
      std::printf("             %-22s %8.3f ms/token %5.1f %%\n", op_kind_name(static_cast<OpKind>(k)),
                  1e3 * p.seconds[k] / static_cast<double>(p.tokens), 100.0 * p.seconds[k] / p.total);
  std::printf("             %-22s %8.3f ms/token %5.1f %%\n", "other (sampling, glue)",
              1e3 * (p.total - known) / static_cast<double>(p.tokens), 100.0 * (p.total - known) / p.total);
}

void profile_json(JsonWriter& j, const char* key, const OpProfile& p) {
  j.key(key).begin_object().key("ms_per_token").value(1e3 * p.total / static_cast<double>(p.tokens));
  j.key("ops").begin_object();
  for (int k = 0; k < static_cast<int>(OpKind::kCount); ++k)
    j.key(op_kind_name(static_cast<OpKind>(k))).value(1e3 * p.seconds[k] / static_cast<double>(p.tokens));
  j.end_object().end_object();
}

// Per generated token over the measured decode runs.
struct CacheFigures {
  double stall_ms = 0, bytes = 0, wasted = 0, disk_gb_s = 0;
};
CacheFigures cache_figures(const ExpertLayerStats& s, double io_busy_s, int64_t tokens) {
  CacheFigures f;
  const double t = static_cast<double>(std::max<int64_t>(tokens, 1));
  f.stall_ms = 1e3 * s.stall_s / t;
  f.bytes = static_cast<double>(s.bytes_read) / t;
  f.wasted = static_cast<double>(s.wasted_bytes) / t;
  f.disk_gb_s = io_busy_s > 0 ? static_cast<double>(s.bytes_read) / io_busy_s / 1e9 : 0.0;
  return f;
}

void layer_stats_json(JsonWriter& j, const ExpertLayerStats& s, double io_busy_s, int64_t tokens) {
  const CacheFigures f = cache_figures(s, io_busy_s, tokens);
  j.key("hit_rate").value(s.hit_rate()).key("predictor_recall").value(s.recall());
  j.key("predictor_precision").value(s.precision()).key("stall_ms_per_token").value(f.stall_ms);
  j.key("bytes_read_per_token").value(f.bytes).key("prefetched_unused_bytes_per_token").value(f.wasted);
  j.key("requests").value(static_cast<int64_t>(s.requests)).key("hits").value(static_cast<int64_t>(s.hits));
  j.key("late").value(static_cast<int64_t>(s.late)).key("misses").value(static_cast<int64_t>(s.misses));
  j.key("prefetch_loads").value(static_cast<int64_t>(s.prefetch_loads));
  j.key("prefetch_unused").value(static_cast<int64_t>(s.prefetch_unused));
  j.key("prefetch_paused").value(static_cast<int64_t>(s.prefetch_paused));
}

// "expert_cache": the cache's figures over the measured decode runs, or null when resident.
void expert_cache_json(JsonWriter& j, const Runtime& rt, const ExpertCacheStats& st, int64_t tokens, double seconds) {
  j.key("expert_cache");
  if (!rt.experts) {
    j.null();
    return;
  }
  const Placement& p = rt.placement;
  j.begin_object().key("budget_bytes").value(p.budget).key("budget_source").value(p.source);
  j.key("pinned_bytes").value(p.pinned_bytes).key("cache_bytes").value(rt.experts->arena_bytes());
  j.key("slots").value(rt.experts->slots()).key("policy").value(expert_policy_name(rt.experts->options().policy));
  const auto pf = rt.experts->options().prefetch;
  j.key("prefetch").value(pf == ExpertCacheOptions::Prefetch::kOn ? "on" : pf == ExpertCacheOptions::Prefetch::kOff ? "off" : "auto");
  j.key("prediction_margin").value(rt.experts->prediction_margin());
  layer_stats_json(j, st.total, st.io_busy_s, tokens);
  j.key("disk_gb_s").value(cache_figures(st.total, st.io_busy_s, tokens).disk_gb_s);
  j.key("io_busy_fraction").value(seconds > 0 ? st.io_busy_s / seconds : 0.0);
  j.key("per_layer").begin_array();
  for (const ExpertLayerStats& l : st.layers) {
    j.begin_object().key("layer").value(l.layer);
    layer_stats_json(j, l, 0.0, tokens);
    j.end_object();
  }
  j.end_array().end_object();
}

void print_expert_cache(const Runtime& rt, const ExpertCacheStats& st, int64_t tokens) {
  const CacheFigures f = cache_figures(st.total, st.io_busy_s, tokens);
  std::printf("experts    %lld slots/layer (%s): hit rate %.1f %%, predictor recall %.2f precision %.2f; stall %.1f ms/token; "
              "read %.1f MB/token at %.2f GB/s; prefetched but unused %.1f MB/token (%llu of %llu read ahead; %llu predictions "
              "not read ahead)\n",
              static_cast<long long>(rt.experts->slots()), expert_policy_name(rt.experts->options().policy),
              100.0 * st.total.hit_rate(), st.total.recall(), st.total.precision(), f.stall_ms, f.bytes / 1e6,
              f.disk_gb_s, f.wasted / 1e6, static_cast<unsigned long long>(st.total.prefetch_unused),
              static_cast<unsigned long long>(st.total.prefetch_loads), static_cast<unsigned long long>(st.total.prefetch_paused));
  std::printf("           I/O threads: %.1f ms/token in reads, %.1f ms/token filling slots\n", 1e3 * st.total.read_s / std::max<int64_t>(tokens, 1),
              1e3 * st.total.fill_s / std::max<int64_t>(tokens, 1));
  std::printf("           per layer hit %% / recall:");
  for (const ExpertLayerStats& l : st.layers) std::printf(" %lld:%.0f/%.2f", static_cast<long long>(l.layer), 100.0 * l.hit_rate(), l.recall());
  std::printf("\n");
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  std::vector<OptSpec> specs = {
      {"--model", "-m", "MODEL", "model: a .gguf file or a Hugging Face model directory"},
      {"--n-prompt", "-p", "N", "prompt tokens for the prefill test (default 512; 0 = skip)"},
      {"--n-gen", "-n", "N", "tokens for the decode test (default 128; 0 = skip)"},
      {"--repetitions", "-r", "R", "repeats of each test (default 3)"},
      {"--json", "", "", "print one JSON object instead of the table"},
      {"--sweep", "", "", "also measure prefill at 32, 64, 128, ... up to -p tokens"},
      {"--bw-gib", "", "N", "size of the bandwidth probe's buffer in GiB (default 1)"},
      {"--profile", "", "", "time per op kind (matmul, attention, norms, ...) for prefill and decode"},
      {"--accuracy-tokens", "", "N",
       "positions compared against the exact configuration of the same file (top-1 agreement, mean KL); default 32 "
       "with --cache-aware-routing, else 0"},
      {"--batch", "", "B", "sequences run together (default 1): B prompts of -p tokens are prefilled, and B "
                           "sequences decode -n steps together from an empty cache; tok/s are totals over all"},
  };
  for (auto& o : model_run_options()) specs.push_back(o);
  Args a("bench", "-m MODEL [-p 512] [-n 128] [-t THREADS] [-r 3] [--json]", specs, argc, argv, 2);
  if (a.help()) {
    std::fputs(a.help_text().c_str(), stdout);
    return 0;
  }
  const int64_t n_prompt = a.integer("--n-prompt", 512, 0, 1 << 20);
  const int64_t n_gen = a.integer("--n-gen", 128, 0, 1 << 20);
  const int reps = static_cast<int>(a.integer("--repetitions", 3, 1, 1000));
  const int64_t n_batch = a.integer("--batch", 1, 1, 1024);
  // The KV store the tests reach: n_batch sequences of the longer test (or --ctx each).
  const int64_t per_seq = a.has("--ctx") ? a.integer("--ctx", 0, 1, int64_t{1} << 24) : std::max<int64_t>({n_prompt, n_gen, 1});
  Runtime rt = open_runtime(a, true, false, per_seq * n_batch);
  ExpertCache* cache = rt.experts.get();
  const Model& m = *rt.model;
  const int64_t nv = m.config().n_vocab;
  SessionOptions so;
  // The context each sequence may reach: --ctx when given, else what the tests need.
  so.context = a.has("--ctx") ? a.integer("--ctx", 0, 1, int64_t{1} << 24) : std::max<int64_t>({n_prompt, n_gen, 1});
  so.mla_absorbed = session_mla_absorbed(a);
  so.experts = cache;
  if (std::max(n_prompt, n_gen) > so.context)
    throw UsageError("--ctx", std::to_string(std::max(n_prompt, n_gen)) + " test tokens exceed the context " +
                                  std::to_string(so.context));
  if (so.context > m.config().context_length)
    std::fprintf(stderr, "moeinfer: note: %lld tokens exceed the model's context length %lld\n",
                 static_cast<long long>(so.context), static_cast<long long>(m.config().context_length));

  const bool profile = a.flag("--profile");
  OpProfile prof_prefill, prof_decode;
  std::vector<double> prefill, decode;
  std::vector<std::pair<int64_t, double>> sweep;  // (prompt length, median prefill tok/s)
  if (a.flag("--sweep") && n_prompt > 0) {
    for (int64_t len = 32; len <= n_prompt; len *= 2) {
      SessionOptions sw = so;
      sw.max_batch = std::min<int64_t>(len, 512);
      Session s(m, *rt.kernels, *rt.pool, sw);
      const std::vector<int32_t> toks = bench_tokens(len, nv);
      std::vector<double> runs;
      for (int r = -1; r < reps; ++r) {
        s.reset();
        double t0 = now_seconds();
        s.eval(toks, false);
        if (r >= 0) runs.push_back(len / (now_seconds() - t0));
      }
      sweep.emplace_back(len, spread(runs).median);
      std::fprintf(stderr, "moeinfer: sweep pp%lld done\n", static_cast<long long>(len));
    }
  }
  RunnerOptions ro;
  ro.context = so.context;
  ro.max_seqs = n_batch;
  ro.mla_absorbed = so.mla_absorbed;
  ro.experts = cache;
  if (n_prompt > 0) {
    ro.max_batch = std::min<int64_t>(n_prompt, 512);
    BatchRunner runner(m, *rt.kernels, *rt.pool, ro);
    const std::vector<int32_t> toks = bench_tokens(n_prompt, nv);
    Batch batch;
    for (int r = -1; r < reps; ++r) {  // r = -1: warm-up
      std::vector<int32_t> seqs;
      for (int64_t i = 0; i < n_batch; ++i) seqs.push_back(runner.kv().add_sequence());
      Profiler::enable(profile && r >= 0);
      double t0 = now_seconds();
      for (int32_t seq : seqs)  // each prompt in chunks of the batch size, the last row's logits
        for (int64_t done = 0; done < n_prompt;) {
          const int64_t b = std::min(ro.max_batch, n_prompt - done);
          batch.clear();
          for (int64_t i = 0; i < b; ++i) batch.add(toks[done + i], done + i, seq, done + i + 1 == n_prompt);
          runner.run(batch);
          done += b;
        }
      double dt = now_seconds() - t0;
      Profiler::enable(false);
      for (int32_t seq : seqs) runner.kv().remove_sequence(seq);
      if (r >= 0) {
        prefill.push_back(n_batch * n_prompt / dt);
        prof_prefill.total += dt;
        prof_prefill.tokens += n_batch * n_prompt;
      }
      progress("prefill", r + 1, reps);
    }
    prof_prefill.seconds = Profiler::seconds();
    Profiler::reset();
  }
  std::unique_ptr<ReadBandwidthProbe> probe;  // made after the decode warm-up, read after each repetition
  ExpertCacheStats cache_before, cache_stats;  // the measured decode runs' share
  double decode_seconds = 0.0;
  std::vector<double> paired_bw, paired_ratio;
  uint64_t rss = 0;
  uint64_t bw_bytes = static_cast<uint64_t>(a.integer("--bw-gib", 1, 1, 64)) << 30;
  {  // the probe's buffer counts against the memory budget too: what the placement left over
    const Placement& pl = rt.placement;
    const uint64_t used = pl.pinned_bytes + pl.expert_bytes + pl.reserve_bytes;
    const uint64_t room = pl.budget > used ? pl.budget - used : 0;
    if (!cache && room < bw_bytes) {
      bw_bytes = std::max<uint64_t>(room / 2, uint64_t{64} << 20);
      std::fprintf(stderr, "moeinfer: note: the bandwidth probe reads %llu MiB to stay within the memory budget\n",
                   static_cast<unsigned long long>(bw_bytes >> 20));
    }
  }
  const ModelStats st = compute_stats(m);
  // Weights read per decode step (the KV cache read, n/2 positions on average, is reported apart).
  const uint64_t bytes_per_token = st.weight_bytes_per_token;
  if (n_gen > 0) {
    ro.max_batch = n_batch;
    BatchRunner runner(m, *rt.kernels, *rt.pool, ro);
    const std::vector<int32_t> toks = bench_tokens(n_gen + n_batch, nv);
    Batch batch;
    for (int r = -1; r < reps; ++r) {
      std::vector<int32_t> seqs;
      for (int64_t i = 0; i < n_batch; ++i) seqs.push_back(runner.kv().add_sequence());
      Profiler::enable(profile && r >= 0);
      if (cache && r == 0) cache_before = cache->cache_stats();
      double t0 = now_seconds();
      for (int64_t i = 0; i < n_gen; ++i) {  // one row per sequence, every row's logits
        batch.clear();
        for (int64_t q = 0; q < n_batch; ++q) batch.add(toks[i + q], i, seqs[q], true);
        runner.run(batch);
      }
      double dt = now_seconds() - t0;
      Profiler::enable(false);
      for (int32_t seq : seqs) runner.kv().remove_sequence(seq);
      if (r >= 0) {
        decode.push_back(n_batch * n_gen / dt);
        prof_decode.total += dt;
        prof_decode.tokens += n_batch * n_gen;
        decode_seconds += dt;
        if (!probe) continue;  // the expert cache: disk-bound, and the budget has no room for a probe
        const double bw_now = probe->pass();
        paired_bw.push_back(bw_now);
        // weights are read once per step for all B sequences
        if (bw_now > 0) paired_ratio.push_back(n_gen / dt * static_cast<double>(bytes_per_token) / 1e9 / bw_now);
      } else {
        rss = peak_rss_bytes();  // before the probe's buffer
        if (!cache) probe = std::make_unique<ReadBandwidthProbe>(*rt.pool, rt.kernels->isa(), bw_bytes);
      }
      progress("decode", r + 1, reps);
    }
    prof_decode.seconds = Profiler::seconds();
    Profiler::reset();
  }
  if (cache) {
    cache_stats = cache->cache_stats().since(cache_before);
    if (n_gen == 0) rss = peak_rss_bytes();
  } else if (!probe) {  // no decode test: the bandwidth alone, best of five passes
    rss = peak_rss_bytes();
    std::fprintf(stderr, "moeinfer: measuring read bandwidth with %d threads...\n", rt.pool->size());
    paired_bw.push_back(measure_read_bandwidth(*rt.pool, rt.kernels->isa(), bw_bytes));
  }
  // Accuracy preservation: the lossy configuration against the exact one (cache-aware routing off),
  // after the cache's figures were taken.
  const float tolerance = cache ? cache->routing_tolerance() : 0.0f;
  const int64_t acc_tokens = a.integer("--accuracy-tokens", tolerance > 0 ? 32 : 0, 0, 1 << 16);
  AccuracyResult accuracy;
  if (acc_tokens > 0) {
    RunnerOptions ao = ro;
    ao.max_batch = std::min<int64_t>(std::max<int64_t>(n_prompt, 1), 512);
    if (ao.context < std::max<int64_t>(n_prompt, 1) + acc_tokens) ao.context = std::max<int64_t>(n_prompt, 1) + acc_tokens;
    const std::vector<int32_t> prompt = bench_tokens(std::max<int64_t>(n_prompt, 1), nv);
    accuracy = measure_accuracy(
        rt, ao, prompt, acc_tokens, [&] { if (cache) cache->set_routing_tolerance(0.0f); },
        [&] { if (cache) cache->set_routing_tolerance(tolerance); });
  }
  probe.reset();
  const double bw = paired_bw.empty() ? 0.0 : spread(paired_bw).median;
  const double bw_best = paired_bw.empty() ? 0.0 : *std::max_element(paired_bw.begin(), paired_bw.end());
  const uint64_t kv_bytes_avg = st.kv_bytes_per_token * static_cast<uint64_t>(n_gen) / 2;
  const Spread p = prefill.empty() ? Spread{0, 0, 0} : spread(prefill);
  const Spread d = decode.empty() ? Spread{0, 0, 0} : spread(decode);
  const double decode_gbs = d.median / static_cast<double>(n_batch) * static_cast<double>(bytes_per_token) / 1e9;
  const double roofline = paired_ratio.empty() ? 0.0 : 100.0 * spread(paired_ratio).median;
  const double roofline_best = bw_best > 0 ? 100.0 * decode_gbs / bw_best : 0.0;

  if (a.flag("--json")) {
    JsonWriter j;
    j.begin_object().key("model").value(m.path()).key("n_prompt").value(n_prompt).key("n_gen").value(n_gen);
    j.key("batch").value(n_batch);
    j.key("repetitions").value(int64_t{reps});
    j.key("prefill_tok_s").value(p.median).key("prefill_tok_s_min").value(p.min).key("prefill_tok_s_max").value(p.max);
    j.key("decode_tok_s").value(d.median).key("decode_tok_s_min").value(d.min).key("decode_tok_s_max").value(d.max);
    j.key("decode_gb_s").value(decode_gbs).key("bandwidth_gb_s").value(bw).key("bandwidth_gb_s_best").value(bw_best);
    j.key("bytes_per_token").value(bytes_per_token).key("roofline_pct").value(roofline);
    j.key("roofline_pct_vs_best").value(roofline_best);
    j.key("kv_bytes_per_token_avg").value(kv_bytes_avg);
    if (!sweep.empty()) {
      j.key("sweep").begin_array();
      for (const auto& [len, tps] : sweep) j.begin_object().key("n_prompt").value(len).key("prefill_tok_s").value(tps).end_object();
      j.end_array();
    }
    j.key("repack").value(repack_mode_name(rt.repack.mode)).key("repacked_tensors").value(rt.repack.tensors);
    j.key("repacked_bytes").value(rt.repack.bytes);
    if (profile) {
      if (prof_prefill.tokens > 0) profile_json(j, "profile_prefill", prof_prefill);
      if (prof_decode.tokens > 0) profile_json(j, "profile_decode", prof_decode);
    }
    expert_cache_json(j, rt, cache_stats, prof_decode.tokens, decode_seconds);
    j.key("cache_aware_routing").value(static_cast<double>(tolerance));
    j.key("accuracy");
    if (accuracy.positions > 0) {
      j.begin_object().key("positions").value(accuracy.positions).key("top1_agreement").value(accuracy.top1_agreement);
      j.key("mean_kl").value(accuracy.mean_kl).key("against").value("the exact configuration of the same file").end_object();
    } else {
      j.null();
    }
    j.key("peak_rss_bytes").value(rss).key("isa").value(isa_name(rt.kernels->isa()));
    j.key("threads").value(int64_t{rt.pool->size()});
    // jobs the pool ran on one thread because a worker kept being preempted (another process on its core)
    j.key("pool_stalls").value(static_cast<int64_t>(rt.pool->stalls()));
    j.key("pool_solo_jobs").value(static_cast<int64_t>(rt.pool->solo_jobs()));
    j.end_object();
    write_json_output(a, j.str());
    return 0;
  }
  std::printf("model      %s (%s, %.2f M params)\n", m.path().c_str(), m.config().arch.c_str(), st.n_params / 1e6);
  std::printf("threads    %d, kernels %s, batch %lld\n", rt.pool->size(), isa_name(rt.kernels->isa()),
              static_cast<long long>(n_batch));
  if (n_prompt > 0)
    std::printf("prefill    pp%-6lld %10.1f tok/s  (min %.1f, max %.1f, %d runs)\n", static_cast<long long>(n_prompt),
                p.median, p.min, p.max, reps);
  if (n_gen > 0)
    std::printf("decode     tg%-6lld %10.1f tok/s  (min %.1f, max %.1f, %d runs)\n", static_cast<long long>(n_gen),
                d.median, d.min, d.max, reps);
  for (const auto& [len, tps] : sweep)
    std::printf("sweep      pp%-6lld %10.1f tok/s\n", static_cast<long long>(len), tps);
  std::printf("roofline   %.3f MB of weights read per token x %.1f tok/s = %.2f GB/s; read bandwidth right after each "
              "repetition %.2f GB/s (median; best %.2f) -> %.1f %% (median of the paired ratios; %.1f %% of the best "
              "pass) (KV cache: %.3f MB per token on average, not counted)\n",
              bytes_per_token / 1e6, d.median, decode_gbs, bw, bw_best, roofline, roofline_best, kv_bytes_avg / 1e6);
  if (roofline > 100.0)
    std::printf("           (above 100 %%: the weights fit in the CPU caches, or the bandwidth test ran low; on a "
                "shared machine it varies from run to run)\n");
  std::printf("repack     %s: %lld matrices (%.1f MB) interleaved for the kernels%s%s\n", repack_mode_name(rt.repack.mode),
              static_cast<long long>(rt.repack.tensors), rt.repack.bytes / 1e6, rt.repack.skipped.empty() ? "" : "; ",
              rt.repack.skipped.c_str());
  std::printf("memory     peak RSS %.1f MiB\n", rss / 1048576.0);
  if (cache) print_expert_cache(rt, cache_stats, prof_decode.tokens);
  if (accuracy.positions > 0)
    std::printf("accuracy   %lld positions against the exact configuration: top-1 agreement %.3f, mean KL %.3g%s\n",
                static_cast<long long>(accuracy.positions), accuracy.top1_agreement, accuracy.mean_kl,
                tolerance > 0 ? " (--cache-aware-routing)" : "");
  if (profile && prof_prefill.tokens > 0) print_profile("prefill", prof_prefill);
  if (profile && prof_decode.tokens > 0) print_profile("decode", prof_decode);
  return 0;
}

}  // namespace moeinfer
