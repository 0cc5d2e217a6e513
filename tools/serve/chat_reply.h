// A chat reply taken apart one delta at a time: reasoning (<think> block),
// content, and tool calls (from either; a call the model starts inside its
// reasoning is still a call). The non-streamed response runs the same class
// over the whole text, so streamed deltas concatenate to it.
#pragma once
#include <string>
#include <vector>

#include "serve/reasoning.h"
#include "serve/tool_calls.h"

namespace dllm::serve {

class ChatReplySplitter {
 public:
  // tools_json: the tools offered ("" : none, and no text is taken for a call).
  ChatReplySplitter(bool starts_in_reasoning, const std::string& tools_json)
      : split_(starts_in_reasoning),
        tools_(!tools_json.empty()),
        in_reasoning_(tools_ ? nlohmann::json::parse(tools_json, nullptr, false) : nlohmann::json()),
        in_content_(in_reasoning_) {}

  void push(const std::string& delta, bool final, std::string* reasoning, std::string* content,
            std::vector<ToolCall>* calls) {
    std::string r, c;
    split_.push(delta, &r, &c);
    if (final) split_.flush(&r, &c);
    if (!tools_) {
      *reasoning += r;
      *content += c;
      return;
    }
    in_reasoning_.push(r, reasoning, calls);
    in_content_.push(c, content, calls);
    if (final) {
      in_reasoning_.flush(reasoning, calls);
      in_content_.flush(content, calls);
    }
  }

 private:
  ReasoningSplitter split_;
  bool tools_;
  ToolCallStream in_reasoning_, in_content_;
};

// OpenAI's form of the i-th call of a reply.
inline nlohmann::json tool_call_json(const std::string& reply_id, size_t i, const ToolCall& c, bool with_index) {
  nlohmann::json j = {{"id", "call_" + reply_id + "_" + std::to_string(i)},
                      {"type", "function"},
                      {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
  if (with_index) j["index"] = i;
  return j;
}

}  // namespace dllm::serve
