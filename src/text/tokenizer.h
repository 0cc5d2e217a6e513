// Byte-level BPE tokenizer built from GGUF metadata (kernels.md §6):
// special-token partition -> NFC (Qwen pre types) -> regex pre-tokenizer
// (PCRE2 JIT) -> BPE with merge ranks; detokenization per §6.6.
//
// Where llama.cpp and Hugging Face differ we follow Hugging Face `tokenizers`
// (the test oracle): NFC for the qwen2/qwen35 pre types, special tokens found
// leftmost-longest in the raw text before normalization, `(?i:...)` with
// Unicode case folding, `\s` = the Unicode White_Space property.
//
// A Tokenizer is immutable after construction; encode/decode may be called
// from several threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dllm {

class GgufFile;

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

// Supported tokenizer.ggml.pre values.
enum class PreType { Qwen2, Qwen35, Llama3 };
const char* pre_type_name(PreType t);                        // "qwen2", ...
std::optional<PreType> pre_type_from_name(std::string_view name);
// The pre-tokenizer regex exactly as Hugging Face tokenizer.json writes it
// (the Split pattern), used to recognise the pre type when importing.
const std::string& pre_type_hf_regex(PreType t);
// Whether the source tokenizer normalizes to NFC before pre-tokenizing
// (Qwen: yes; Llama 3: no). GGUF has no key for this (kernels.md §6).
bool pre_type_uses_nfc(PreType t);
// Whether a pre-token that is itself a vocabulary entry skips the merges
// (Hugging Face `ignore_merges`; llama3 only).
bool pre_type_ignores_merges(PreType t);

// Everything the tokenizer reads, in GGUF form: token texts as stored
// (NORMAL tokens byte-encoded, others literal), merges as "left right".
// A missing id is -1.
struct VocabSpec {
  std::string model = "gpt2";  // tokenizer.ggml.model
  std::string pre;             // tokenizer.ggml.pre
  std::vector<std::string> tokens;
  std::vector<int32_t> types;  // empty: every token NORMAL
  std::vector<std::string> merges;
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, pad = -1, unk = -1, sep = -1;
  std::vector<int32_t> fim_ids;  // FIM pad/rep/sep: members of the end-of-generation set
  std::optional<bool> add_bos, add_eos;  // absent: the pre type's default
};

// Reads the tokenizer keys of a GGUF file (throws dllm::Error naming the file
// and key on a missing or ill-typed key).
VocabSpec vocab_spec_from_gguf(const GgufFile& f);

class Tokenizer {
 public:
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& f);
  // Validates the spec; throws dllm::Error with one line on any problem
  // (unsupported model or pre type, bad token type, merge of unknown tokens,
  // id out of range).
  static std::unique_ptr<Tokenizer> from_spec(const VocabSpec& spec);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text` (valid UTF-8, else dllm::Error naming the byte offset).
  // parse_special: CONTROL/UNKNOWN token texts in the input become their ids
  // (USER_DEFINED ones always do). Adds no BOS/EOS; see encode_prompt.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  // encode() with BOS prepended / EOS appended when add_bos()/add_eos(), as
  // Hugging Face's encode(add_special_tokens=True) does for these tokenizers.
  std::vector<int32_t> encode_prompt(std::string_view text, bool parse_special = true) const;

  // The bytes of one token (§6.6): NORMAL -> byte-decoded, USER_DEFINED ->
  // literal text, BYTE -> its byte, CONTROL/UNKNOWN/UNUSED -> "" unless
  // render_special (then the literal text). May be part of a UTF-8 character.
  // Throws dllm::Error for an id outside [0, n_vocab).
  std::string token_to_piece(int32_t id, bool render_special = false) const;
  // Concatenated pieces; ill-formed UTF-8 in the result becomes U+FFFD.
  std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

  int32_t n_vocab() const;
  TokenType token_type(int32_t id) const;           // throws for a bad id
  const std::string& token_text(int32_t id) const;  // as stored in GGUF
  PreType pre_type() const;
  int32_t bos() const;  // -1 when the file has none
  int32_t eos() const;
  int32_t eot() const;
  int32_t pad() const;
  bool add_bos() const;
  bool add_eos() const;
  // End of generation: eos, eot, eom, FIM ids and tokens whose text is a known
  // end marker (<|im_end|>, <|endoftext|>, <|eot_id|>, ...), sorted.
  bool is_eog(int32_t id) const;
  const std::vector<int32_t>& eog_ids() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Streaming detokenizer: push() returns only whole UTF-8 characters and keeps
// an incomplete tail for the next token; a sequence that can never become
// valid is emitted as U+FFFD. flush() returns what is left (an incomplete
// tail as U+FFFD) and resets.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool render_special = false)
      : tok_(tok), render_special_(render_special) {}
  std::string push(int32_t id);
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool render_special_;
  std::string pending_;  // bytes of an incomplete trailing character
};

}  // namespace dllm
