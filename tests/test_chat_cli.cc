// `moeinfer chat` through a pipe: three user turns on a tiny model with a real tokenizer and chat
// template (the shipped model with the Llama 2 template added to a copy of its GGUF). Each turn's
// rendered prompt equals `chat-template` on the same message list (the answers so far included),
// and the answers are what `generate --greedy` gives on that prompt.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace moeinfer::test {
namespace {

using nlohmann::ordered_json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shipped model plus tokenizer.chat_template, written to dir.
std::string model_with_template(const std::string& dir) {
  const std::string path = dir + "/stories-chat.gguf";
  copy_gguf_with(shipped_model(), path, {{"tokenizer.chat_template", read_file(data_path("server/llama2.jinja"))}}, {});
  return path;
}

TEST(ChatCli, ThreeTurnsThroughAPipeRenderLikeChatTemplate) {
  const std::string dir = temp_dir();
  const std::string model = model_with_template(dir);
  const std::vector<std::string> turns = {"Hello there", "Tell me about Lily", "/reset", "And then?"};
  std::string input;
  for (const auto& t : turns) input += t + "\n";
  CliResult r = run_cli({"chat", "-m", model, "-n", "12", "--temp", "0", "--verbose-prompt", "--system", "Be kind."}, input);
  ASSERT_EQ(r.status, 0) << r.err;
  // stderr: one JSON string per turn (the rendered prompt)
  std::vector<std::string> prompts;
  std::istringstream err(r.err);
  for (std::string line; std::getline(err, line);)
    if (!line.empty() && line[0] == '"') prompts.push_back(ordered_json::parse(line).get<std::string>());
  ASSERT_EQ(prompts.size(), 3u) << r.err;
  // stdout: each answer ends with a newline
  std::vector<std::string> answers;
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);) answers.push_back(line);
  ASSERT_EQ(answers.size(), 3u) << r.out;
  // The message lists the turns saw: the history, reset before the third turn.
  ordered_json msgs = ordered_json::array({ordered_json{{"role", "system"}, {"content", "Be kind."}}});
  const std::vector<int> user_turns = {0, 1, 3};
  for (int k = 0; k < 3; ++k) {
    if (k == 2) msgs = ordered_json::array({ordered_json{{"role", "system"}, {"content", "Be kind."}}});
    msgs.push_back({{"role", "user"}, {"content", turns[static_cast<size_t>(user_turns[static_cast<size_t>(k)])]}});
    const std::string mpath = dir + "/messages.json";
    std::ofstream(mpath) << msgs.dump();
    CliResult ref = run_cli({"chat-template", "-m", model, "--messages", mpath, "--add-generation-prompt"});
    ASSERT_EQ(ref.status, 0) << ref.err;
    EXPECT_EQ(prompts[static_cast<size_t>(k)], ref.out) << "turn " << k;
    // the answer: greedy tokens on the rendered prompt (its special tokens parsed, no BOS added)
    CliResult tk = run_cli({"tokenize", "-m", model, "--text", ref.out});
    ASSERT_EQ(tk.status, 0) << tk.err;
    const auto ids = nlohmann::json::parse(tk.out)["ids"];
    std::string id_list;
    for (const auto& v : ids) id_list += std::to_string(v.get<int>()) + " ";
    CliResult g = run_cli({"generate", "-m", model, "--tokens", id_list, "-n", "12", "--greedy", "--stop-at-eos"});
    ASSERT_EQ(g.status, 0) << g.err;
    EXPECT_EQ(answers[static_cast<size_t>(k)], nlohmann::json::parse(g.out)["text"].get<std::string>()) << "turn " << k;
    msgs.push_back({{"role", "assistant"}, {"content", answers[static_cast<size_t>(k)]}});
  }
}

TEST(ChatCli, ModelWithoutTemplateGetsAClearMessage) {
  CliResult r = run_cli({"chat", "-m", shipped_model()}, "hi\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--chat-template"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace moeinfer::test
