// The builtin filters of Jinja2 that chat templates use, plus Hugging Face's
// tojson (json.dumps with ensure_ascii=False). Unknown names are refused at
// parse time.
#pragma once
#include <string>
#include <string_view>

#include "text/jinja/value.h"

namespace dllm::jinja {

bool is_filter_name(std::string_view name);
Value call_filter(Interpreter& in, const std::string& name, const Value& input, CallArgs& args);

}  // namespace dllm::jinja
