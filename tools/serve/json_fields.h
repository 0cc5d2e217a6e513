// What the request parsers (OpenAI's and Anthropic's) share: a 400 that names
// the field, and a field lookup that treats null as absent.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "serve/api_error.h"

namespace dllm::serve::fields {

[[noreturn]] inline void bad(const std::string& field, const std::string& what) {
  throw ApiError(400, "'" + field + "' " + what, field);
}

// nullptr when absent or null (clients send null for "not given").
inline const nlohmann::json* find(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace dllm::serve::fields
