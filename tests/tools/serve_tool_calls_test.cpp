// Tool calls parsed out of model replies (tools/serve/tool_calls.h), on
// outputs written the way Qwen3.5 (XML form) and Qwen3 (JSON form) emit them:
// several calls, a call inside <think>, parameters in any order, values typed
// by the tool's schema, a call cut off by max_tokens, prose that mentions the
// markup; and streamed in every split == all at once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "serve/chat_reply.h"
#include "serve/tool_calls.h"

using namespace dllm::serve;
using json = nlohmann::json;

namespace {

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
     "city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"},
     "lat": {"type": "number"}, "tags": {"type": "array"}, "opts": {"type": "object"},
     "note": {"type": ["null", "string"]}}}}},
  {"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {
     "query": {"type": "string"}}}}}
])");

struct Out {
  std::string reasoning, content;
  std::vector<ToolCall> calls;
};

// The reply through ChatReplySplitter, fed in pieces of `step` bytes (0: at once).
Out split(const std::string& reply, size_t step, bool starts_in_reasoning = false) {
  ChatReplySplitter s(starts_in_reasoning, kTools.dump());
  Out o;
  if (step == 0) {
    s.push(reply, true, &o.reasoning, &o.content, &o.calls);
    return o;
  }
  for (size_t i = 0; i < reply.size(); i += step) {
    const bool last = i + step >= reply.size();
    s.push(reply.substr(i, step), last, &o.reasoning, &o.content, &o.calls);
  }
  return o;
}

json args(const ToolCall& c) { return json::parse(c.arguments); }

const char* kXmlTwoCalls =
    "Let me check both.\n\n<tool_call>\n<function=get_weather>\n<parameter=days>\n3\n</parameter>\n"
    "<parameter=city>\nSan Francisco\n</parameter>\n<parameter=metric>\ntrue\n</parameter>\n</function>\n"
    "</tool_call>\n<tool_call>\n<function=search>\n<parameter=query>\nbest <b>tacos</b>\n</parameter>\n"
    "</function>\n</tool_call>";

TEST(ToolCalls, XmlFormSeveralCallsTypedInAnyOrder) {
  const Out o = split(kXmlTwoCalls, 0);
  EXPECT_EQ(o.content, "Let me check both.\n\n");
  ASSERT_EQ(o.calls.size(), 2u);
  EXPECT_EQ(o.calls[0].name, "get_weather");
  EXPECT_EQ(args(o.calls[0]), json::parse(R"({"days": 3, "city": "San Francisco", "metric": true})"));
  EXPECT_EQ(o.calls[1].name, "search");
  EXPECT_EQ(args(o.calls[1]), json::parse(R"({"query": "best <b>tacos</b>"})"));
}

TEST(ToolCalls, JsonFormWithObjectOrStringArguments) {
  const Out o = split(
      "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"x\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Oslo\\\"}\"}\n</tool_call>",
      0);
  EXPECT_EQ(o.content, "");
  ASSERT_EQ(o.calls.size(), 2u);
  EXPECT_EQ(args(o.calls[0]), json::parse(R"({"query": "x"})"));
  EXPECT_EQ(o.calls[1].name, "get_weather");
  EXPECT_EQ(args(o.calls[1]), json::parse(R"({"city": "Oslo"})"));
}

TEST(ToolCalls, CallStartedInsideThinkIsACall) {
  const Out o = split(
      "I should look it up.\n<tool_call>\n<function=search>\n<parameter=query>\nq\n</parameter>\n</function>\n"
      "</tool_call>\n</think>\n\n",
      0, /*starts_in_reasoning=*/true);
  ASSERT_EQ(o.calls.size(), 1u);
  EXPECT_EQ(o.calls[0].name, "search");
  EXPECT_EQ(o.reasoning, "I should look it up.\n");
  EXPECT_EQ(o.content, "");
}

TEST(ToolCalls, TypedValues) {
  const json schema = kTools[0]["function"]["parameters"]["properties"];
  EXPECT_EQ(typed_parameter("42", schema["days"]), json(42));
  EXPECT_EQ(typed_parameter("4.5", schema["days"]), json(4.5));  // not an integer: the JSON value it is
  EXPECT_EQ(typed_parameter(" 52.37 ", schema["lat"]), json(52.37));
  EXPECT_EQ(typed_parameter("false", schema["metric"]), json(false));
  EXPECT_EQ(typed_parameter("[1, \"a\"]", schema["tags"]), json::parse("[1, \"a\"]"));
  EXPECT_EQ(typed_parameter("{\"k\": {\"n\": null}}", schema["opts"]), json::parse("{\"k\": {\"n\": null}}"));
  EXPECT_EQ(typed_parameter("null", schema["note"]), json(nullptr));
  EXPECT_EQ(typed_parameter("nothing", schema["note"]), json("nothing"));
  EXPECT_EQ(typed_parameter("007", schema["city"]), json("007"));  // strings stay strings, verbatim
  EXPECT_EQ(typed_parameter("12", json::object()), json(12));      // no schema: a JSON value if it is one
  EXPECT_EQ(typed_parameter("New York", json::object()), json("New York"));
}

TEST(ToolCalls, CutOffCallStaysContent) {
  const std::string reply = "Sure.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nPar";
  for (size_t step : {0, 1, 3}) {
    const Out o = split(reply, step);
    EXPECT_TRUE(o.calls.empty());
    EXPECT_EQ(o.content, reply) << step;
  }
}

TEST(ToolCalls, MarkupInProseIsNotACall) {
  // A mention of the tag, a block that is not a call, a function nobody declared.
  const std::string reply =
      "Wrap calls in <tool_call> tags like <tool_call>this</tool_call>, or "
      "<tool_call>\n<function=rm_rf>\n</function>\n</tool_call> done.";
  const Out o = split(reply, 0);
  EXPECT_TRUE(o.calls.empty());
  EXPECT_EQ(o.content, reply);
}

TEST(ToolCalls, WithoutToolsNothingIsParsed) {
  ChatReplySplitter s(false, "");
  std::string r, c;
  std::vector<ToolCall> calls;
  s.push(kXmlTwoCalls, true, &r, &c, &calls);
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(c, kXmlTwoCalls);
}

TEST(ToolCalls, StreamedInAnySplitEqualsAllAtOnce) {
  const std::vector<std::string> replies = {
      kXmlTwoCalls,
      "<think>\nhmm <tool_call> maybe\n</think>\n\nOK <tool_call>\n{\"name\": \"search\", \"arguments\": {}}\n"
      "</tool_call>\n\n  \nafter",
      "a <tool_ca",
      "<tool_call><tool_call>\n{\"name\": \"search\"}\n</tool_call>",
  };
  for (const std::string& reply : replies) {
    const Out whole = split(reply, 0);
    for (size_t step = 1; step <= 13; ++step) {
      const Out parts = split(reply, step);
      EXPECT_EQ(parts.reasoning, whole.reasoning) << reply << " step " << step;
      EXPECT_EQ(parts.content, whole.content) << reply << " step " << step;
      ASSERT_EQ(parts.calls.size(), whole.calls.size()) << reply << " step " << step;
      for (size_t i = 0; i < whole.calls.size(); ++i) {
        EXPECT_EQ(parts.calls[i].name, whole.calls[i].name);
        EXPECT_EQ(parts.calls[i].arguments, whole.calls[i].arguments);
      }
    }
  }
  // Blank space after the last call is markup, text after it is content.
  const Out o = split(replies[1], 0);
  EXPECT_EQ(o.reasoning, "hmm <tool_call> maybe\n");
  EXPECT_EQ(o.content, "OK \n\n  \nafter");
  ASSERT_EQ(o.calls.size(), 1u);
  EXPECT_EQ(o.calls[0].arguments, "{}");
}

}  // namespace
