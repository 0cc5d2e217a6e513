// Methods of Python's str, dict and list that templates call
// (message.content.startswith('<tool_response>'), d.items(), ...).
#pragma once
#include <string>
#include <string_view>

#include "text/jinja/value.h"

namespace dllm::jinja {

// Whether `self.name` names a method (Python looks attributes up before keys,
// so {'items': 1}.items is the method).
bool has_method(const Value& self, std::string_view name);
Value call_method(Interpreter& in, const Value& self, const std::string& name, CallArgs& args);

// Python str.split / str.splitlines, shared with filters.
std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right);
std::vector<std::string> py_splitlines(const std::string& s, bool keepends);

}  // namespace dllm::jinja
