// Python's text forms of values: str() (what {{ x }} prints), repr() (how
// values inside lists and dicts print: single quotes, True, None), and the
// float repr that both str() and json.dumps use.
#pragma once
#include <string>
#include <string_view>

#include "text/jinja/value.h"

namespace dllm::jinja {

std::string py_str(const Value& v);   // undefined -> ""
std::string py_repr(const Value& v);  // undefined -> "Undefined"
std::string py_float_repr(double d);  // 1.0, 1e+16, 1e-05, inf, nan
std::string py_repr_string(std::string_view s);  // 'it\'s' rules: quote choice, escapes

}  // namespace dllm::jinja
