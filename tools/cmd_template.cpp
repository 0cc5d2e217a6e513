// deltallm template: renders a conversation through a GGUF file's own chat
// template (tokenizer.chat_template) and prints the prompt byte-exactly.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli_util.h"
#include "command.h"
#include "formats/gguf.h"
#include "text/chat_template.h"
#include "util/error.h"

namespace dllm::cli {
namespace {

using Json = nlohmann::ordered_json;

// Reads a JSON file ("-" is stdin); errors name the file.
Json read_json(const std::string& path, const char* what) {
  std::string text;
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, ": cannot open ", what);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) fail(path, ": cannot read ", what);
    text = ss.str();
  }
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": ", what, " is not valid JSON (", e.what(), ")");
  }
}

// The text of token `id_key` (tokenizer.ggml.bos_token_id ...), or "".
std::string token_text(const GgufFile& f, const char* id_key) {
  const std::optional<uint32_t> id = f.get_u32(id_key);
  const GgufValue* tokens = f.get_array("tokenizer.ggml.tokens");
  if (!id || !tokens || *id >= tokens->items.size()) return "";
  const GgufValue& t = tokens->items[*id];
  return t.type == GgufType::STRING ? t.s : "";
}

int cmd_template(int argc, char** argv) {
  CLI::App app{
      "Render a conversation with the chat template of a GGUF file (tokenizer.chat_template) and print the "
      "prompt exactly, with nothing added. MESSAGES.json is a JSON array of OpenAI-style messages (\"-\" reads "
      "stdin). add_generation_prompt is true unless --no-generation-prompt; enable_thinking is false with "
      "--no-think and otherwise undefined; tools are passed only with --tools; bos_token/eos_token are the "
      "texts of the file's BOS/EOS ids (empty when it has none).",
      "deltallm template"};
  std::string model_path, messages_path, tools_path;
  bool no_gen = false, no_think = false;
  app.add_option("-m,--model", model_path, "GGUF file (a model or a vocab-only file)")->required();
  app.add_option("messages", messages_path, "MESSAGES.json")->required();
  app.add_option("--tools", tools_path, "TOOLS.json: a JSON array of tool definitions");
  app.add_flag("--no-generation-prompt", no_gen, "do not open an assistant turn at the end");
  app.add_flag("--no-think", no_think, "set enable_thinking to false");
  if (!parse_args(app, argc, argv)) return 0;

  ChatTemplateInput in;
  in.messages = read_json(messages_path, "the messages file");
  if (!tools_path.empty()) in.tools = read_json(tools_path, "the tools file");
  in.add_generation_prompt = !no_gen;
  if (no_think) in.enable_thinking = false;

  auto file = GgufFile::open(model_path);
  const std::optional<std::string> source = file->get_str("tokenizer.chat_template");
  if (!source) fail(model_path, ": no chat template (tokenizer.chat_template)");
  in.bos_token = token_text(*file, "tokenizer.ggml.bos_token_id");
  in.eos_token = token_text(*file, "tokenizer.ggml.eos_token_id");

  const ChatTemplate tmpl(*source);
  const std::string prompt = tmpl.apply(in);
  if (std::fwrite(prompt.data(), 1, prompt.size(), stdout) != prompt.size() || std::fflush(stdout) != 0)
    fail("cannot write to stdout");
  return 0;
}

const Command reg("template", "render messages through the file's chat template", &cmd_template);

}  // namespace
}  // namespace dllm::cli
