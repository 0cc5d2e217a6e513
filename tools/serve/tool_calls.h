// Tool calls in generated text, in the two forms the Qwen families emit:
//
//   XML (Qwen3.5 / Qwen3.6 / Qwen3-Coder templates):
//     <tool_call>
//     <function=NAME>
//     <parameter=P>
//     value
//     </parameter>
//     </function>
//     </tool_call>
//   JSON (Qwen3 / Hermes templates):
//     <tool_call>
//     {"name": "NAME", "arguments": {...}}
//     </tool_call>
//
// Both are recognised whatever the template (a model may use either). Only a
// complete block whose body parses and names a function the request declared
// becomes a call; anything else (prose that mentions <tool_call>, a block cut
// off by max_tokens) stays text. XML parameter values are converted to the
// type the tool's JSON schema declares for them.
//
// ToolCallStream works one delta at a time and holds back only what may still
// become a call, so that streamed deltas concatenate to the non-streamed
// message (the server uses the same class for both).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dllm::serve {

struct ToolCall {
  std::string name;
  std::string arguments;  // a JSON object, as text (OpenAI's function.arguments)
};

class ToolCallStream {
 public:
  // tools: the request's "tools" array (OpenAI shape: {type, function: {name, parameters}}).
  explicit ToolCallStream(nlohmann::json tools) : tools_(std::move(tools)) {}

  // Appends generated text; *text gets what is certainly not part of a call,
  // *calls the calls completed by this delta.
  void push(const std::string& delta, std::string* text, std::vector<ToolCall>* calls);
  // End of generation: whatever was held back is text.
  void flush(std::string* text, std::vector<ToolCall>* calls);

 private:
  void run(bool final, std::string* text, std::vector<ToolCall>* calls);
  void emit(const std::string& s, std::string* text);
  nlohmann::json tools_;
  std::string buf_;          // text not yet passed on: may still become a call
  bool after_call_ = false;  // the last thing seen was a call
  std::string held_space_;   // blank space after a call, passed on only if text follows
};

// The body of one <tool_call> block (between the tags) as a call, or false.
bool parse_tool_call_body(const std::string& body, const nlohmann::json& tools, ToolCall* out);

// An XML parameter's text as the JSON value its schema type asks for
// (string, integer, number, boolean, null, object, array; a type list takes
// the first that fits). Without a schema type: JSON if the text parses as a
// JSON value, else the string. Exposed for tests.
nlohmann::json typed_parameter(const std::string& raw, const nlohmann::json& schema);

}  // namespace dllm::serve
