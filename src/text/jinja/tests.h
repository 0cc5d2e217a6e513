// The builtin tests of Jinja2 (`x is defined`, `x is string`, ...).
#pragma once
#include <string>
#include <string_view>

#include "text/jinja/value.h"

namespace dllm::jinja {

bool is_test_name(std::string_view name);
bool call_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);

}  // namespace dllm::jinja
