// Python operators on template values: arithmetic (with int overflow
// refused rather than wrapped), `~`, comparisons, `in`, unary minus, slicing,
// and markupsafe's escaping of the text that meets a Markup string.
// (`str % args` formats with string_format.h.)
#pragma once
#include <optional>
#include <string>

#include "text/jinja/ast.h"
#include "text/jinja/value.h"

namespace dllm::jinja {

Value binary_op(BinOp op, const Value& a, const Value& b);
bool compare_op(CmpOp op, const Value& a, const Value& b);
// `item in container`
bool contains(const Value& container, const Value& item);
Value negate(const Value& v);
Value positive(const Value& v);

// seq[start:stop:step] for str, list and tuple. Other objects and index
// types are an error (Jinja2 compiles a slice to a plain Python subscript),
// or with `lenient` an undefined value (Jinja2's getitem, which its compiler
// uses when it folds a slice of constants).
Value slice_value(const Value& seq, const Value& start, const Value& stop, const Value& step, bool lenient);

// markupsafe.escape of a string.
std::string html_escape(std::string_view s);

// Checked int64 arithmetic: Python ints are unbounded, ours are not.
int64_t checked_add(int64_t a, int64_t b);
int64_t checked_mul(int64_t a, int64_t b);

}  // namespace dllm::jinja
