// deltallm template: renders a conversation through a GGUF file's own chat
// template (tokenizer.chat_template) and prints the prompt byte-exactly.
// Uses only the C API (deltallm_chat_apply_template_json).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"
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

  // Parsed here too so that a bad file is named in the error; the library
  // gets the JSON text.
  const std::string messages = read_json(messages_path, "the messages file").dump();
  std::string tools;
  if (!tools_path.empty()) tools = read_json(tools_path, "the tools file").dump();

  // Quiet: stderr carries only the one error line (or --stats). A tokenizer
  // that cannot be built is reported by the call that needs it, not warned
  // about at load.
  check(deltallm_set_log_level(DELTALLM_LOG_ERROR));
  const ModelPtr model = load_model(model_path, /*vocab_only=*/true);
  deltallm_chat_params params = deltallm_chat_default_params();
  params.add_generation_prompt = !no_gen;
  params.enable_thinking = no_think ? 0 : -1;
  if (!tools_path.empty()) params.tools_json = tools.c_str();
  const std::string prompt = apply_chat_template(model.get(), messages, params);
  if (std::fwrite(prompt.data(), 1, prompt.size(), stdout) != prompt.size() || std::fflush(stdout) != 0)
    fail("cannot write to stdout");
  return 0;
}

const Command reg("template", "render messages through the file's chat template", &cmd_template);

}  // namespace
}  // namespace dllm::cli
