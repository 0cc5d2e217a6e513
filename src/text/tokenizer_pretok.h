// Regex pre-tokenizer (Hugging Face `Split` with behavior Isolated): every
// match is a piece and so is every gap between matches. PCRE2 with JIT, UTF
// and UCP; `\s`/`\S` are rewritten to the Unicode White_Space property, which
// is what Hugging Face's Oniguruma means by them (PCRE2's own `\s` also
// matches U+180E). Categories are the union of PCRE2's and utf8proc's
// tables: Oniguruma's are newer (Unicode 16 in tokenizers 0.22) than either,
// so characters assigned after utf8proc's Unicode version may still split
// differently.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dllm {

class RegexSplitter {
 public:
  explicit RegexSplitter(const std::string& hf_pattern);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  struct Piece {
    uint32_t begin, end;  // byte offsets into the text
  };
  // Appends the pieces of `text` (valid UTF-8, not checked again) to `out`;
  // together they cover the text exactly, in order.
  void split(std::string_view text, std::vector<Piece>& out) const;

  // The pattern as compiled (after the \s rewrite), for messages and tests.
  const std::string& compiled_pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
};

// `\s` -> [White_Space], `\S` -> [^White_Space], and \p{L}, \p{N}, \p{M}
// widened by the code points of that category (per utf8proc) that the
// installed PCRE2 does not know yet; also inside classes.
std::string rewrite_unicode_classes(const std::string& pattern);

}  // namespace dllm
