// Python's string formatting as templates reach it: `'%s' % x` (printf
// style, through the % operator and the format filter) and str.format().
#pragma once
#include <string>

#include "text/jinja/value.h"

namespace dllm::jinja {

std::string percent_format(const std::string& fmt, const Value& args);
std::string str_format(const std::string& fmt, const CallArgs& args);

}  // namespace dllm::jinja
