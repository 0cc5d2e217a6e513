// The server's split of generated text into reasoning_content and content:
// fed in pieces cut anywhere (as a stream delivers it), it gives exactly what
// the whole text gives at once (the non-streamed reply).
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "serve/reasoning.h"

namespace {

using dllm::serve::ReasoningSplitter;

std::pair<std::string, std::string> split_whole(const std::string& text, bool in_reasoning) {
  ReasoningSplitter s(in_reasoning);
  std::string r, c;
  s.push(text, &r, &c);
  s.flush(&r, &c);
  return {r, c};
}

TEST(ServeReasoning, WholeText) {
  EXPECT_EQ(split_whole("<think>\nplan</think>\n\nanswer", false), std::make_pair(std::string("plan"), std::string("answer")));
  EXPECT_EQ(split_whole("just text", false), std::make_pair(std::string(), std::string("just text")));
  EXPECT_EQ(split_whole("plan\n</think>\n\nanswer", true), std::make_pair(std::string("plan\n"), std::string("answer")));
  EXPECT_EQ(split_whole("still thinking", true), std::make_pair(std::string("still thinking"), std::string()));
  EXPECT_EQ(split_whole("a <think> later is text", false), std::make_pair(std::string(), std::string("a <think> later is text")));
  EXPECT_EQ(split_whole("<thi", false), std::make_pair(std::string(), std::string("<thi")));  // a partial tag at the end is text
  EXPECT_EQ(split_whole("x</thi", true), std::make_pair(std::string("x</thi"), std::string()));
}

TEST(ServeReasoning, AnyCutGivesTheSameAsTheWhole) {
  for (const char* text : {"<think>\nplan a b</think>\n\nanswer </think> x", "  <think>p</think>c", "plain <thi",
                           "\n\n</think>\n\nend", "<think></think>", "caf\xc3\xa9 <think>"}) {
    for (bool in_reasoning : {false, true}) {
      const auto want = split_whole(text, in_reasoning);
      const std::string t = text;
      for (size_t a = 0; a <= t.size(); ++a)
        for (size_t b = a; b <= t.size(); ++b) {
          ReasoningSplitter s(in_reasoning);
          std::string r, c;
          s.push(t.substr(0, a), &r, &c);
          s.push(t.substr(a, b - a), &r, &c);
          s.push(t.substr(b), &r, &c);
          s.flush(&r, &c);
          EXPECT_EQ(std::make_pair(r, c), want) << "text '" << t << "' cut at " << a << ", " << b;
        }
    }
  }
}

}  // namespace
