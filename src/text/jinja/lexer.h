// Template source -> tokens, following Jinja2's lexer (jinja2/lexer.py) with
// the settings Hugging Face uses: trim_blocks and lstrip_blocks on,
// keep_trailing_newline off. Whitespace control ({%- -%} {%+ +%}) is applied
// here, so the parser sees data tokens with their final text.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dllm::jinja {

enum class Tok : uint8_t {
  kData,        // literal template text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text holds the unescaped value
  kInt,
  kFloat,
  kOp,          // text holds the operator: + - / // * % ** ~ [ ] ( ) { } == != > >= < <= = . : | , ;
  kEof,
};

struct Token {
  Tok type = Tok::kEof;
  std::string text;
  int64_t ival = 0;
  double fval = 0;
  int line = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws TemplateError (kSyntax) for an unterminated tag, comment or string,
// unbalanced brackets or a character that cannot start a token.
std::vector<Token> tokenize(std::string_view source, const LexOptions& opt = {});

}  // namespace dllm::jinja
