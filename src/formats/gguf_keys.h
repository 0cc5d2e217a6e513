// Well-known GGUF metadata keys whose value type is fixed. Both the reader
// (rejects a file) and the writer (refuses to write one) check them, so a
// file we write is always one we read.
//
// The list (exact type required; the reference loader is just as strict):
//   STRING  general.architecture, general.name, general.type,
//           tokenizer.ggml.model, tokenizer.ggml.pre, tokenizer.chat_template
//   UINT32  general.alignment, general.quantization_version, general.file_type,
//           tokenizer.ggml.*_token_id,
//           {arch}.block_count, {arch}.context_length, {arch}.embedding_length,
//           {arch}.expert_count, {arch}.expert_used_count
//   BOOL    tokenizer.ggml.add_bos_token, tokenizer.ggml.add_eos_token
//   UINT16  split.no, split.count;  INT32 split.tensors.count
//   ARRAY of STRING   tokenizer.ggml.tokens, tokenizer.ggml.merges
//   ARRAY of INT32    tokenizer.ggml.token_type
//   ARRAY of FLOAT32  tokenizer.ggml.scores
// {arch} is the value of general.architecture (when it is a string).
// Keys such as {arch}.feed_forward_length or attention.head_count are left
// out on purpose: some architectures store them as per-layer arrays.
#pragma once
#include <string>
#include <string_view>

#include "formats/gguf.h"

namespace dllm {

// "" when `value` has an acceptable type for `key` (or the key is not
// well-known); otherwise the expected type, e.g. "STRING" or "ARRAY of INT32".
std::string gguf_expected_type(std::string_view key, const GgufValue& value, std::string_view arch);

// "UINT32" or "ARRAY of STRING" (element type of arrays included).
std::string gguf_type_label(const GgufValue& value);

}  // namespace dllm
