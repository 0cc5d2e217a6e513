// Hugging Face tokenizer.json (+ tokenizer_config.json) -> GGUF tokenizer keys
// (kernels.md §6.1), for `deltallm import-tokenizer` and
// `make-model --tokenizer`.
//
// Supported: byte-level BPE (model.type "BPE" with a ByteLevel pre-tokenizer)
// whose Split regex is exactly one of the known pre types (qwen2, qwen35,
// llama3) — or any, when the caller names the pre type.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "text/tokenizer.h"

namespace dllm {

class GgufWriter;

struct HfTokenizerImport {
  VocabSpec spec;             // the tokenizer keys
  std::string chat_template;  // tokenizer.chat_template ("" = none)
  std::vector<std::pair<std::string, std::string>> named_templates;  // tokenizer.chat_template.<name>
  std::vector<std::string> warnings;  // things imported with a caveat, one line each
};

struct HfImportOptions {
  std::string config_path;  // tokenizer_config.json; "" = none
  std::string pre;          // pre type to use whatever the regex says; "" = recognise it
  int64_t pad_to_multiple = 0;  // > 0: pad the vocabulary with [PADi] UNUSED tokens
};

// Reads and checks the files; the result is validated by building a
// Tokenizer from it. Throws dllm::Error naming the file and the problem.
//
// Typing (convert_hf_to_gguf's): model vocab -> NORMAL; added tokens that are
// `special` or look special (<|...|>, <｜...｜>, <start_of_...>, <end_of_...>,
// <pad>, <mask>) -> CONTROL; other added tokens -> USER_DEFINED with U+2581
// replaced by a space; ids no token has -> "[PADi]" UNUSED.
// BOS/EOS/PAD/UNK: bos_token, eos_token, pad_token, unk_token of
// tokenizer_config.json (a string or {"content": ...}) looked up among the
// added tokens, then the vocab. add_bos/add_eos: the config's
// add_bos_token/add_eos_token, else whether the post-processor template adds
// them, else false.
HfTokenizerImport import_hf_tokenizer(const std::string& tokenizer_json_path, const HfImportOptions& opt = {});

// tokenizer_config.json in the folder of `tokenizer_json_path`, or "" when
// there is none.
std::string hf_config_beside(const std::string& tokenizer_json_path);

// Sets the tokenizer.* keys (not general.*) of `imp` on `w`.
void write_tokenizer_keys(GgufWriter& w, const HfTokenizerImport& imp);

// import_hf_tokenizer + write_tokenizer_keys, for make-model --tokenizer:
// config_path "" = no config (use hf_config_beside to find one). Returns the
// vocabulary size written (a multiple of pad_to_multiple when > 0). Warnings
// are appended to `warnings` when given.
int64_t apply_hf_tokenizer(GgufWriter& w, const std::string& tokenizer_json_path, const std::string& config_path,
                           int64_t pad_to_multiple, const std::string& pre = "",
                           std::vector<std::string>* warnings = nullptr);

}  // namespace dllm
