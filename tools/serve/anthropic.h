// The Anthropic Messages API (POST /v1/messages, /v1/messages/count_tokens)
// over the same engine as the OpenAI endpoint: a request is translated into
// the OpenAI chat form (so that one parser validates it and one template
// renders it, and the prompt cache serves both APIs), and the reply's
// reasoning, text and tool calls come back as Anthropic content blocks.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "serve/tool_calls.h"

namespace dllm::serve {

// An Anthropic request body as an OpenAI chat-completions body (ApiError 400
// naming the Anthropic field when it is malformed). count_only: max_tokens is
// not required (count_tokens).
nlohmann::json anthropic_to_openai(const nlohmann::json& body, bool count_only = false);

// stop_reason of a finished reply.
std::string anthropic_stop_reason(const std::string& finish_reason, bool has_calls, bool hit_stop_sequence);

// One tool_use content block.
nlohmann::json anthropic_tool_use(const std::string& message_id, size_t i, const ToolCall& c);

// {"type": "error", "error": {"type", "message"}}.
nlohmann::json anthropic_error(int status, const std::string& message);

}  // namespace dllm::serve
