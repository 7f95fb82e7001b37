// Chat templates of real models, byte-exact:
//  - the four public goldens (tests/data/chat_templates/{llama2,llama3,mistral,deepseek-v3}: copies of
//    ../shared/testdata/tokenizers/*/{tokenizer_config.json,chat_template_golden.json}), through the API and
//    through `moeinfer chat-template` exactly as tools/golden_check.py runs it;
//  - templates of other model families (tests/data/chat_templates/families/*.jinja: Llama 3.1/3.2, Qwen2.5,
//    Qwen3, DeepSeek-R1, Phi-3/3.5/4, Gemma 2, Zephyr, ChatML, Mistral v0.3 tools, Hermes tools) against
//    renderings by Python Jinja2 in HF's environment (families/make_golden.py);
//  - the template sources: folders, tokenizer_config.json (string or named-list template, AddedToken
//    dicts, null tokens), chat_template.jinja / special_tokens_map.json precedence, GGUF.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "test_util.h"
#include "chat/chat_template.h"

namespace moeinfer {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

const char* const kModels[] = {"llama2", "llama3", "mistral", "deepseek-v3"};

ordered_json read_ordered(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return ordered_json::parse(in);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string dir_of(const std::string& model) { return test::data_path("chat_templates/" + model); }

TEST(ChatTemplateGolden, PublicGoldensThroughTheApi) {
  for (const char* model : kModels) {
    const ordered_json golden = read_ordered(dir_of(model) + "/chat_template_golden.json");
    for (const std::string& source : {dir_of(model), dir_of(model) + "/tokenizer_config.json"}) {
      const ChatTemplate t = ChatTemplate::load(source);
      for (const auto& c : golden["cases"]) {
        SCOPED_TRACE(std::string(model) + " " + c["name"].get<std::string>());
        const bool gen = c["add_generation_prompt"].get<bool>();
        if (c.contains("error")) {
          try {
            t.render(c["messages"], gen);
            ADD_FAILURE() << "expected the template's error";
          } catch (const ChatTemplateError& e) {
            EXPECT_TRUE(e.raised());
            EXPECT_EQ(e.message(), c["error"].get<std::string>());
          }
        } else {
          EXPECT_EQ(t.render(c["messages"], gen), c["rendered"].get<std::string>());
        }
      }
    }
  }
}

TEST(ChatTemplateGolden, PublicGoldensThroughTheCli) {
  const std::string tmp = test::temp_dir();
  const std::string messages = tmp + "/m.json";
  for (const char* model : kModels) {
    const ordered_json golden = read_ordered(dir_of(model) + "/chat_template_golden.json");
    for (const auto& c : golden["cases"]) {
      SCOPED_TRACE(std::string(model) + " " + c["name"].get<std::string>());
      write_file(messages, c["messages"].dump());
      std::vector<std::string> args = {"chat-template", "--tokenizer", dir_of(model), "--messages", messages};
      if (c["add_generation_prompt"].get<bool>()) args.push_back("--add-generation-prompt");
      const test::CliResult r = test::run_cli(args);
      if (c.contains("error")) {
        EXPECT_EQ(r.status, 1);
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(r.err, "moeinfer: " + dir_of(model) + "/tokenizer_config.json: chat_template: " +
                             c["error"].get<std::string>() + "\n");
      } else {
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, c["rendered"].get<std::string>());
      }
    }
  }
  fs::remove_all(tmp);
}

TEST(ChatTemplateGolden, ModelFamiliesMatchJinja2) {
  const std::string dir = test::data_path("chat_templates/families");
  const ordered_json golden = read_ordered(dir + "/golden.json");
  ASSERT_GE(golden["cases"].size(), 100u);
  size_t rendered = 0;
  for (const auto& c : golden["cases"]) {
    const std::string file = c["template"].get<std::string>();
    SCOPED_TRACE(file + " " + c["name"].get<std::string>());
    std::ifstream in(dir + "/" + file, std::ios::binary);
    const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const ChatTemplate t(source, file, golden["tokens"]);
    ChatRenderOptions o;
    o.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    o.variables = c["variables"];
    o.now = golden["now"].get<std::time_t>();
    if (c.contains("rendered")) {
      EXPECT_EQ(t.render(c["messages"], o), c["rendered"].get<std::string>());
      ++rendered;
    } else {
      try {
        t.render(c["messages"], o);
        ADD_FAILURE() << "expected an error like: " << c["error"];
      } catch (const ChatTemplateError& e) {
        EXPECT_EQ(e.raised(), c["raised"].get<bool>()) << e.message();
        if (c["raised"].get<bool>()) {
          EXPECT_EQ(e.message(), c["error"].get<std::string>());
        }
      }
    }
  }
  EXPECT_GE(rendered, 80u);
}

// A throwaway model folder.
class ChatTemplateSources : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

TEST_F(ChatTemplateSources, NamedTemplateListUsesDefault) {
  write_file(path("tokenizer_config.json"),
             R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ bos_token }}"}],)"
             R"( "bos_token": {"__type": "AddedToken", "content": "<B>", "lstrip": false}, "eos_token": null})");
  const ChatTemplate t = ChatTemplate::load(dir_);
  EXPECT_EQ(t.render(ordered_json::array(), false), "D<B>");
  EXPECT_EQ(t.file(), path("tokenizer_config.json"));

  write_file(path("tokenizer_config.json"), R"({"chat_template": [{"name": "tool_use", "template": "T"}]})");
  try {
    ChatTemplate::load(dir_);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "chat_template");
    EXPECT_NE(std::string(e.what()).find("default"), std::string::npos) << e.what();
  }
}

TEST_F(ChatTemplateSources, NullAndEmptyTokensAreUndefined) {
  write_file(path("tokenizer_config.json"),
             R"({"chat_template": "[{{ bos_token }}|{{ unk_token is defined }}|{{ pad_token is defined }}|{{ additional_special_tokens }}]",)"
             R"( "bos_token": "<s>", "unk_token": null, "pad_token": "", "additional_special_tokens": ["<a>", {"content": "<b>"}]})");
  EXPECT_EQ(ChatTemplate::load(path("tokenizer_config.json")).render(ordered_json::array(), false),
            "[<s>|False|False|['<a>', '<b>']]");
}

TEST_F(ChatTemplateSources, JinjaFileAndSpecialTokensMapTakePrecedence) {
  write_file(path("tokenizer_config.json"), R"({"chat_template": "config {{ eos_token }}", "eos_token": "</s>"})");
  EXPECT_EQ(ChatTemplate::load(dir_).render(ordered_json::array(), false), "config </s>");
  write_file(path("special_tokens_map.json"), R"({"eos_token": {"content": "<|end|>"}})");
  write_file(path("chat_template.jinja"), "jinja {{ eos_token }}\n");
  const ChatTemplate t = ChatTemplate::load(dir_);
  EXPECT_EQ(t.render(ordered_json::array(), false), "jinja <|end|>");
  EXPECT_EQ(t.file(), path("chat_template.jinja"));
}

TEST_F(ChatTemplateSources, MissingOrMalformedSourcesAreErrors) {
  EXPECT_THROW(ChatTemplate::load(dir_), Error);  // no tokenizer_config.json
  EXPECT_THROW(ChatTemplate::load(path("nope.json")), Error);
  write_file(path("tokenizer_config.json"), R"({"bos_token": "<s>"})");
  try {
    ChatTemplate::load(dir_);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), path("tokenizer_config.json"));
    EXPECT_EQ(e.field(), "chat_template");
  }
  write_file(path("tokenizer_config.json"), "{not json");
  EXPECT_THROW(ChatTemplate::load(dir_), Error);
  write_file(path("tokenizer_config.json"), R"({"chat_template": 5})");
  EXPECT_THROW(ChatTemplate::load(dir_), Error);
  write_file(path("tokenizer_config.json"), R"({"chat_template": "x", "bos_token": 7})");
  EXPECT_THROW(ChatTemplate::load(dir_), Error);
  write_file(path("tokenizer_config.json"), R"({"chat_template": "{% for %}"})");
  try {
    ChatTemplate::load(dir_);
    ADD_FAILURE() << "expected a syntax error";
  } catch (const ChatTemplateError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path("tokenizer_config.json") + ": chat_template: line 1: ", 0), 0u)
        << e.what();
  }
}

TEST_F(ChatTemplateSources, GgufTemplateAndTokens) {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.add_uint32("tokenizer.ggml.bos_token_id", 1);
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  w.add_uint32("tokenizer.ggml.padding_token_id", 99);  // out of range: left undefined
  w.add_string("tokenizer.chat_template",
               "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}"
               "{{ pad_token is defined }}");
  w.write(path("m.gguf"));
  const ChatTemplate t = ChatTemplate::load(path("m.gguf"));
  EXPECT_EQ(t.render(ordered_json::parse(R"([{"role":"user","content":"hi"}])"), false), "<s>[user] hi</s>False");

  GgufWriter none;
  none.add_string("general.architecture", "llama");
  none.write(path("none.gguf"));
  try {
    ChatTemplate::load(path("none.gguf"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "tokenizer.chat_template");
  }

  // The CLI takes the GGUF by -m as well.
  write_file(path("m.json"), R"([{"role":"user","content":"x"}])");
  const test::CliResult r = test::run_cli({"chat-template", "-m", path("m.gguf"), "--messages", path("m.json")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "<s>[user] x</s>False");
}

TEST_F(ChatTemplateSources, CliErrorsAndHelp) {
  write_file(path("tokenizer_config.json"), R"({"chat_template": "{{ raise_exception('two\nlines') }}"})");
  write_file(path("m.json"), "[]");
  test::CliResult r = test::run_cli({"chat-template", "--tokenizer", dir_, "--messages", path("m.json")});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "moeinfer: " + path("tokenizer_config.json") + ": chat_template: two lines\n");

  r = test::run_cli({"chat-template", "--tokenizer", dir_});
  EXPECT_EQ(r.status, 2);
  r = test::run_cli({"chat-template", "--messages", path("m.json")});
  EXPECT_EQ(r.status, 2);
  write_file(path("bad.json"), R"({"role": "user"})");
  r = test::run_cli({"chat-template", "--tokenizer", dir_, "--messages", path("bad.json")});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("expected a JSON array"), std::string::npos) << r.err;
  r = test::run_cli({"chat-template", "--tokenizer", dir_, "--messages", path("missing.json")});
  EXPECT_EQ(r.status, 1);
  r = test::run_cli({"chat-template", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--add-generation-prompt"), std::string::npos);
}

}  // namespace
}  // namespace moeinfer
