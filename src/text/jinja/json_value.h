// JSON <-> template values. Input: the caller's messages and tools
// (nlohmann::ordered_json keeps key order, as Python's json.loads does).
// Output: the `tojson` filter as Hugging Face defines it,
// json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...),
// byte for byte: Python's separators, float repr and string escapes.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "text/jinja/value.h"

namespace dllm::jinja {

Value from_json(const nlohmann::ordered_json& j);

struct JsonDumpOptions {
  std::optional<std::string> indent;  // nullopt: one line
  // Python's defaults: (", ", ": ") on one line, (",", ": ") with an indent.
  std::optional<std::string> item_sep, key_sep;
  bool ensure_ascii = false;
  bool sort_keys = false;
};

std::string json_dumps(const Value& v, const JsonDumpOptions& opt);

}  // namespace dllm::jinja
