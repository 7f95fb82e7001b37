// The expert cache through the CLI: --mem-budget below what must stay in memory is refused with
// both sizes; bad option values are usage errors; generate and run give the resident run's
// tokens with a cache that evicts; bench --json reports an `expert_cache` object (null when
// resident) whose fractions lie in [0, 1].
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace moeinfer::test {
namespace {

const std::string kModel = data_path("gguf/tiny-deepseek-v3.gguf");

TEST(ExpertCacheCli, BudgetBelowThePinnedWeightsIsRefusedWithBothSizes) {
  const CliResult r = run_cli({"generate", "-m", kModel, "--tokens", "1 2", "-n", "2", "--mem-budget", "100K"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_FALSE(r.signaled);
  EXPECT_NE(r.err.find("--mem-budget"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("102400 bytes"), std::string::npos) << r.err;  // the budget
  EXPECT_NE(r.err.find("pinned weights"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" bytes)"), std::string::npos) << r.err;       // the pinned size in bytes
}

TEST(ExpertCacheCli, BadValuesAreUsageErrors) {
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"--mem-budget", "lots"}, {"--expert-slots", "0"}, {"--expert-policy", "fifo"}, {"--prefetch", "maybe"}}) {
    std::vector<std::string> args = {"generate", "-m", kModel, "--tokens", "1 2", "-n", "2"};
    args.insert(args.end(), bad.begin(), bad.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.status, 2) << bad[0] << ": " << r.err;
    EXPECT_NE(r.err.find(bad[0]), std::string::npos) << r.err;
  }
  // A dense model has no experts to cache.
  const CliResult d = run_cli({"generate", "-m", shipped_model(), "--tokens", "1 2", "-n", "2", "--expert-slots", "2"});
  EXPECT_EQ(d.status, 2) << d.err;
  EXPECT_NE(d.err.find("no routed experts"), std::string::npos) << d.err;
}

TEST(ExpertCacheCli, GenerateAndRunMatchTheResidentRun) {
  for (const std::string cmd : {"generate", "run"}) {
    std::vector<std::string> base = {cmd, "-m", kModel, "-n", "24", "--temp", "0"};
    if (cmd == "generate") base.insert(base.end(), {"--tokens", "5 6 7 8"});
    else base.insert(base.end(), {"-p", "hello"});
    const CliResult ref = run_cli(base);
    ASSERT_EQ(ref.status, 0) << ref.err;
    for (const std::string policy : {"lru", "lfu", "predicted"}) {
      std::vector<std::string> args = base;
      args.insert(args.end(), {"--expert-slots", "2", "--expert-policy", policy, "--prefetch", "on"});
      const CliResult r = run_cli(args);
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(r.out, ref.out) << cmd << " " << policy;
      EXPECT_NE(r.err.find("expert cache 3 layers x 2 of 16 slots"), std::string::npos) << r.err;
    }
  }
}

TEST(ExpertCacheCli, BenchJsonReportsTheCache) {
  CliResult r = run_cli({"bench", "-m", kModel, "-p", "8", "-n", "8", "-r", "1", "--json", "--expert-slots", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const nlohmann::json& c = j.at("expert_cache");
  ASSERT_TRUE(c.is_object()) << r.out;
  for (const char* k : {"budget_bytes", "pinned_bytes", "slots", "policy", "hit_rate", "predictor_recall",
                        "predictor_precision", "stall_ms_per_token", "disk_gb_s", "bytes_read_per_token"})
    EXPECT_TRUE(c.contains(k)) << k;
  EXPECT_EQ(c["slots"], 3);
  for (const char* k : {"hit_rate", "predictor_recall", "predictor_precision"}) {
    EXPECT_GE(c[k].get<double>(), 0.0) << k;
    EXPECT_LE(c[k].get<double>(), 1.0) << k;
  }
  EXPECT_GT(c["bytes_read_per_token"].get<double>(), 0.0);
  ASSERT_EQ(c["per_layer"].size(), 3u);
  EXPECT_EQ(c["per_layer"][0]["layer"], 1);
  EXPECT_TRUE(j.at("accuracy").is_null());  // nothing lossy, nothing asked
  r = run_cli({"bench", "-m", kModel, "-p", "8", "-n", "8", "-r", "1", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out).at("expert_cache").is_null()) << r.out;
}

// Accuracy preservation: the exact cache agrees with itself; cache-aware routing is measured.
TEST(ExpertCacheCli, BenchReportsAccuracyOfCacheAwareRouting) {
  CliResult r = run_cli({"bench", "-m", kModel, "-p", "8", "-n", "8", "-r", "1", "--json", "--expert-slots", "2",
                         "--accuracy-tokens", "16"});
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json acc = nlohmann::json::parse(r.out).at("accuracy");
  ASSERT_TRUE(acc.is_object()) << r.out;
  EXPECT_EQ(acc["positions"], 16);
  EXPECT_EQ(acc["top1_agreement"].get<double>(), 1.0);
  EXPECT_LE(acc["mean_kl"].get<double>(), 1e-9);
  r = run_cli({"bench", "-m", kModel, "-p", "8", "-n", "8", "-r", "1", "--json", "--expert-slots", "2",
               "--cache-aware-routing", "1000"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  acc = j.at("accuracy");
  ASSERT_TRUE(acc.is_object()) << r.out;
  EXPECT_EQ(acc["positions"], 32);
  EXPECT_GE(acc["top1_agreement"].get<double>(), 0.0);
  EXPECT_LE(acc["top1_agreement"].get<double>(), 1.0);
  EXPECT_GT(acc["mean_kl"].get<double>(), 0.0);  // every absent expert swapped for a resident one: lossy
  EXPECT_EQ(j["cache_aware_routing"].get<double>(), 1000.0);
}

}  // namespace
}  // namespace moeinfer::test
