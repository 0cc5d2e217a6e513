// The small byte-level BPE vocabulary written into generated models
// (kernels.md §6): 256 byte tokens, merges learned from a built-in English
// text, the Qwen special tokens and [PADn] filler up to the vocab size.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dllm::gen {

// GGUF tokenizer.ggml.token_type values.
enum TokenType : int32_t {
  kTokNormal = 1,
  kTokUnknown = 2,
  kTokControl = 3,
  kTokUserDefined = 4,
  kTokUnused = 5,
  kTokByte = 6,
};

struct Vocab {
  std::vector<std::string> tokens;  // [n_vocab] byte-encoded text (GPT-2 map, kernels.md §6.2)
  std::vector<int32_t> types;       // [n_vocab] TokenType
  std::vector<std::string> merges;  // "left right", rank = index
  uint32_t eos_id = 0;              // <|endoftext|> (also padding and bos, as in the test data)
  uint32_t im_start_id = 0;
  uint32_t im_end_id = 0;
  uint32_t n_real = 0;              // tokens before the [PADn] filler
};

// The largest number of merges learned (fewer when the vocab is too small).
constexpr int kMaxMerges = 480;

// Builds the vocabulary padded to n_vocab tokens. Deterministic. Throws
// dllm::Error when n_vocab cannot hold the byte and special tokens.
Vocab build_vocab(uint32_t n_vocab);

// GPT-2 byte-to-unicode encoding of raw bytes (kernels.md §6.2), as UTF-8.
std::string byte_encode(std::string_view bytes);

// The ChatML template written as tokenizer.chat_template.
extern const char* const kChatTemplate;
// The English text the merges are learned from.
extern const char* const kMergeCorpus;

}  // namespace dllm::gen
