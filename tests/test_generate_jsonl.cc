// `moeinfer generate --jsonl` through the CLI: prompts as parallel sequences, one output line per
// prompt in input order with the single-prompt schema, equal to each prompt run alone; bad lines
// named by their line number.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace moeinfer {
namespace {

struct TempDir {
  const std::string path = test::temp_dir();
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::vector<nlohmann::json> lines_of(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  return v;
}

// Every line's greedy tokens equal generate alone on that prompt; the step logits agree within
// rel_tol · max(1, max|ref|).
void expect_jsonl_equals_alone(const std::string& model, const std::vector<std::vector<int>>& prompts, int n,
                               double rel_tol) {
  TempDir dir;
  const std::string file = dir.path + "/prompts.jsonl";
  {
    std::ofstream f(file);
    for (size_t i = 0; i < prompts.size(); ++i) {
      nlohmann::json j = {{"tokens", prompts[i]}};
      if (i % 2 == 0) j["n"] = n;  // the others take -n
      f << j.dump() << "\n";
      if (i == 1) f << "\n";  // blank lines are skipped
    }
  }
  std::vector<nlohmann::json> alone;
  for (const auto& p : prompts) {
    std::string ids;
    for (int t : p) ids += std::to_string(t) + " ";
    const auto r = test::run_cli({"generate", "-m", model, "--tokens", ids, "-n", std::to_string(n), "--greedy",
                                  "--step-logits"});
    ASSERT_EQ(r.status, 0) << r.err;
    alone.push_back(nlohmann::json::parse(r.out));
  }
  for (int parallel : {1, 3, 8}) {
    const auto r = test::run_cli({"generate", "-m", model, "--jsonl", file, "--parallel", std::to_string(parallel),
                                  "-n", std::to_string(n), "--greedy", "--step-logits"});
    ASSERT_EQ(r.status, 0) << r.err;
    const auto got = lines_of(r.out);
    ASSERT_EQ(got.size(), prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      EXPECT_EQ(got[i]["prompt"], alone[i]["prompt"]);
      EXPECT_EQ(got[i]["generated"], alone[i]["generated"]) << model << " prompt " << i << " parallel " << parallel;
      EXPECT_EQ(got[i]["text"], alone[i]["text"]);
      ASSERT_EQ(got[i]["step_logits"].size(), alone[i]["step_logits"].size());
      for (size_t s = 0; s < got[i]["step_logits"].size(); ++s) {
        const auto& a = alone[i]["step_logits"][s];
        const auto& b = got[i]["step_logits"][s];
        double m = 1.0, d = 0.0;
        for (size_t v = 0; v < a.size(); ++v) {
          m = std::max(m, std::fabs(a[v].get<double>()));
          d = std::max(d, std::fabs(a[v].get<double>() - b[v].get<double>()));
        }
        EXPECT_LE(d, rel_tol * m) << model << " prompt " << i << " step " << s << " parallel " << parallel;
      }
    }
  }
}

std::vector<std::vector<int>> prompts_for(int vocab) {
  std::vector<std::vector<int>> p;
  for (int len : {1, 30, 7, 120, 2, 64}) {
    std::vector<int> t;
    for (int i = 0; i < len; ++i) t.push_back((i * 53 + len * 11 + 5) % (vocab - 3) + 3);
    p.push_back(t);
  }
  return p;
}

TEST(GenerateJsonl, ParallelEqualsAloneF32) {
  expect_jsonl_equals_alone(test::data_path("tiny-mistral"), prompts_for(512), 12, 1e-4);
  expect_jsonl_equals_alone(test::shipped_model(), prompts_for(512), 12, 1e-4);
}

TEST(GenerateJsonl, ParallelEqualsAloneQuantized) {
  for (const char* type : {"q8_0", "q4_0"}) {
    TempDir dir;
    const std::string model = dir.path + "/tiny-" + type + ".gguf";
    const auto mk = test::run_cli({"make-model", "--arch", "llama", "--preset", "tiny", "--type", type, "-q", "-o", model});
    ASSERT_EQ(mk.status, 0) << mk.err;
    expect_jsonl_equals_alone(model, prompts_for(256), 10, 0.02);
  }
}

TEST(GenerateJsonl, BadLinesAreNamed) {
  TempDir dir;
  const std::string file = dir.path + "/bad.jsonl";
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    std::ofstream(file) << content;
    const auto r = test::run_cli({"generate", "-m", test::shipped_model(), "--jsonl", file, "--greedy"});
    EXPECT_EQ(r.status, 1) << content;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  expect_error("{\"tokens\":[1,2]}\n{\"tokens\":\"x\"}\n", "line 2: tokens");
  expect_error("{\"tokens\":[1,2]}\n\nnot json\n", "line 3");
  expect_error("{\"text\":\"a\",\"tokens\":[1]}\n", "line 1");
  expect_error("{\"tokens\":[1,99999]}\n", "outside the vocabulary");
  expect_error("{\"tokens\":[1],\"n\":-1}\n", "line 1: n");
  expect_error("", "at least one prompt");
  // The text form and the default n.
  std::ofstream(file) << "{\"text\":\"Once upon a time\"}\n";
  const auto r = test::run_cli({"generate", "-m", test::shipped_model(), "--jsonl", file, "--greedy"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto got = lines_of(r.out);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["generated"].size(), 16u);
}

}  // namespace
}  // namespace moeinfer
