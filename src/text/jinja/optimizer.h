// Jinja2's compile-time constant folding (jinja2/optimizer.py): every
// expression made only of constants whose value has a "safe repr" is replaced
// by that value before rendering. It is not only an optimisation: Jinja2
// evaluates folded expressions with its lenient getitem, so a slice of a
// constant that cannot be sliced inside, say, `((0)[1:]) is defined` folds
// to False instead of raising. Doing the same keeps us byte-compatible.
#pragma once

#include "text/jinja/ast.h"

namespace dllm::jinja {

void fold_constants(Program& prog);

// Jinja2's has_safe_repr: None, bool, int, float, str (Markup too), and
// lists, tuples and dicts of those.
bool has_safe_repr(const Value& v);

}  // namespace dllm::jinja
