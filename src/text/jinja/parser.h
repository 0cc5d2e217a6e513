// Tokens -> syntax tree, following jinja2/parser.py (same precedence, the same
// quirks: `-2 ** 2` is 4, tests bind tighter than `and`). Filters and tests
// are resolved here, as Jinja2 does at compile time: a name we do not know is
// an error before anything renders.
#pragma once
#include <string_view>

#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"

namespace dllm::jinja {

// Throws TemplateError (kSyntax, or kUnsupported for valid Jinja this engine
// does not implement: extends/include/import, recursive loops, ...).
Program parse_template(std::string_view source, const LexOptions& opt = {});

}  // namespace dllm::jinja
