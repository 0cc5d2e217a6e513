// deltallm import-tokenizer: Hugging Face tokenizer.json -> vocab-only GGUF.
#include <cstdio>
#include <string>

#include "cli_util.h"
#include "command.h"
#include "formats/gguf.h"
#include "text/vocab_import.h"
#include "util/error.h"

namespace dllm::cli {
namespace {

int cmd_import_tokenizer(int argc, char** argv) {
  CLI::App app{
      "Convert a Hugging Face tokenizer.json (byte-level BPE; pre types qwen2, qwen35, llama3) and optionally "
      "its tokenizer_config.json (special tokens, chat template) into a vocab-only GGUF file: general.type = "
      "\"vocab\", no general.architecture, the tokenizer.* keys, no tensors.",
      "deltallm import-tokenizer"};
  std::string tokenizer_json, config_json, out_path, pre;
  app.add_option("tokenizer_json", tokenizer_json, "tokenizer.json")->required();
  app.add_option("tokenizer_config", config_json, "tokenizer_config.json (BOS/EOS/PAD, chat template)");
  app.add_option("-o,--output", out_path, "GGUF file to write")->required();
  app.add_option("--pre", pre, "pre-tokenizer type when the regex is not recognised: qwen2, qwen35 or llama3");
  if (!parse_args(app, argc, argv)) return 0;

  HfImportOptions opt;
  opt.config_path = config_json;
  opt.pre = pre;
  const HfTokenizerImport imp = import_hf_tokenizer(tokenizer_json, opt);
  for (const std::string& w : imp.warnings) std::fprintf(stderr, "deltallm: warning: %s\n", w.c_str());

  GgufWriter w;
  w.set("general.type", GgufValue::str("vocab"));
  write_tokenizer_keys(w, imp);
  w.write(out_path);

  const VocabSpec& s = imp.spec;
  std::fprintf(stderr, "wrote %s: %zu tokens, %zu merges, pre %s, bos %d, eos %d, pad %d, add_bos %s, chat template %s\n",
               out_path.c_str(), s.tokens.size(), s.merges.size(), s.pre.c_str(), s.bos, s.eos, s.pad,
               s.add_bos.value_or(false) ? "yes" : "no", imp.chat_template.empty() ? "none" : "yes");
  return 0;
}

const Command reg("import-tokenizer", "convert a Hugging Face tokenizer.json into a vocab-only GGUF file",
                  &cmd_import_tokenizer);

}  // namespace
}  // namespace dllm::cli
