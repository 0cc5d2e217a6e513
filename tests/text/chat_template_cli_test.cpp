// `deltallm template -m FILE MESSAGES.json [--tools TOOLS.json]
// [--no-generation-prompt] [--no-think]`: the prompt on stdout byte-exactly
// (compared with the library's rendering), the flags mapped to the template
// variables as the issue says, bos/eos token texts from the file, and one-line
// errors with exit status 1.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "support/test_support.h"
#include "text/chat_template.h"

namespace dllm::test {
namespace {

using ojson = nlohmann::ordered_json;

// A vocab-only GGUF with `tmpl` as tokenizer.chat_template (when not null).
std::string make_vocab(const std::string& name, const char* tmpl, bool with_ids = true) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("qwen35"));
  w.set("general.type", GgufValue::str("vocab"));
  w.set("tokenizer.ggml.model", GgufValue::str("gpt2"));
  w.set("tokenizer.ggml.tokens", GgufValue::str_array({"a", "b", "<|begin|>", "<|im_end|>"}));
  if (with_ids) {
    w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(2));
    w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(3));
  }
  if (tmpl) w.set("tokenizer.chat_template", GgufValue::str(tmpl));
  const std::string path = temp_path(name);
  w.write(path);
  return path;
}

std::string json_file(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  write_file(path, text);
  return path;
}

const char* kProbe =
    "[{{ bos_token }}|{{ eos_token }}|gen={{ add_generation_prompt }}|think={{ enable_thinking is defined }}:"
    "{{ enable_thinking }}|tools={{ tools is defined }}:{{ tools|length if tools is defined else '' }}]"
    "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}  \n\n";

TEST(TemplateCli, FlagsMapToTemplateVariables) {
  const std::string gguf = make_vocab("probe.gguf", kProbe);
  const std::string msgs = json_file("m.json", R"([{"role": "user", "content": "hé 🎉"}])");
  const std::string tools = json_file("t.json", R"([{"type": "function", "function": {"name": "f"}}, {"name": "g"}])");

  CmdResult r = run_deltallm({"template", "-m", gguf, msgs});
  ASSERT_EQ(r.status, 0) << r.err;
  // Nothing added: the template's own trailing "  \n" survives (Jinja drops
  // only one final newline of the template source), no newline appended.
  EXPECT_EQ(r.out, "[<|begin|>|<|im_end|>|gen=True|think=False:|tools=False:]<user>hé 🎉  \n");

  r = run_deltallm({"template", "-m", gguf, msgs, "--no-generation-prompt", "--no-think", "--tools", tools});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[<|begin|>|<|im_end|>|gen=False|think=True:False|tools=True:2]<user>hé 🎉  \n");

  // Without BOS/EOS ids the token texts are empty.
  const std::string no_ids = make_vocab("noids.gguf", kProbe, false);
  r = run_deltallm({"template", "-m", no_ids, msgs});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[||gen=True|think=False:|tools=False:]<user>hé 🎉  \n");

  // MESSAGES.json from stdin.
  r = run_deltallm({"template", "-m", gguf, "-"}, R"([{"role": "system", "content": null}])");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[<|begin|>|<|im_end|>|gen=True|think=False:|tools=False:]<system>None  \n");
}

TEST(TemplateCli, RealTemplateMatchesLibrary) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const std::string src = read_file(td + "/templates/Qwen3.5-4B.jinja");
  const std::string gguf = make_vocab("qwen35.gguf", src.c_str());
  const char* messages = R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "reasoning_content": "use the tool",
     "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": [1, 2]}}}]},
    {"role": "tool", "content": "21C"},
    {"role": "user", "content": "thanks"}])";
  const char* tools = R"([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}])";
  const std::string mpath = json_file("conv.json", messages), tpath = json_file("tools.json", tools);

  ChatTemplateInput in;
  in.messages = ojson::parse(messages);
  in.tools = ojson::parse(tools);
  in.bos_token = "<|begin|>";
  in.eos_token = "<|im_end|>";
  const ChatTemplate tmpl(src);
  const std::string expect_think = tmpl.apply(in);
  in.enable_thinking = false;
  in.add_generation_prompt = false;
  const std::string expect_nothink = tmpl.apply(in);
  ASSERT_NE(expect_think, expect_nothink);
  EXPECT_NE(expect_think.find("<|im_start|>assistant\n<think>\n"), std::string::npos);

  CmdResult r = run_deltallm({"template", "-m", gguf, mpath, "--tools", tpath});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expect_think);
  EXPECT_EQ(r.err, "");
  r = run_deltallm({"template", "-m", gguf, mpath, "--tools", tpath, "--no-think", "--no-generation-prompt"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, expect_nothink);
}

// One line on stderr, "deltallm: error: ...", exit 1, nothing on stdout;
// the C API function behind the command is not named.
void expect_error(const CmdResult& r, const std::string& needle) {
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("deltallm: error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("deltallm_"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "wanted '" << needle << "' in: " << r.err;
}

TEST(TemplateCli, Errors) {
  const std::string msgs = json_file("ok.json", R"([{"role": "user", "content": "x"}])");
  expect_error(run_deltallm({"template", "-m", make_vocab("none.gguf", nullptr), msgs}), "no chat template");
  const std::string gguf = make_vocab("e.gguf", "{% for m in messages %}{{ m.content }}{% endfor %}");
  expect_error(run_deltallm({"template", "-m", gguf, json_file("bad.json", "[{")}), "not valid JSON");
  expect_error(run_deltallm({"template", "-m", gguf, json_file("obj.json", R"({"role": "user"})")}), "JSON array");
  expect_error(run_deltallm({"template", "-m", gguf, json_file("norole.json", R"([{"content": "x"}])")}), "role");
  expect_error(run_deltallm({"template", "-m", gguf, temp_path("missing.json")}), "cannot open");
  expect_error(run_deltallm({"template", "-m", gguf, msgs, "--tools", json_file("tobj.json", "{}")}), "tools");
  expect_error(run_deltallm({"template", "-m", temp_path("missing.gguf"), msgs}), "missing.gguf");
  expect_error(run_deltallm({"template", "-m", gguf}), "messages");

  expect_error(run_deltallm({"template", "-m", make_vocab("raise.gguf", "{{ raise_exception('No user query found.') }}"), msgs}),
               "No user query found.");
  expect_error(run_deltallm({"template", "-m", make_vocab("filter.gguf", "{{ messages|wordwrap }}"), msgs}),
               "filter 'wordwrap'");
  expect_error(run_deltallm({"template", "-m", make_vocab("syntax.gguf", "{% if %}"), msgs}), "syntax error at line 1");
  expect_error(run_deltallm({"template", "-m", make_vocab("undef.gguf", "\n\n{{ nothing.here }}"), msgs}),
               "line 3: 'nothing' is undefined");
}

}  // namespace
}  // namespace dllm::test
