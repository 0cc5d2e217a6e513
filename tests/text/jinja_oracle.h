// Shared by the template tests: runs tests/scripts/jinja_oracle.py (Python
// Jinja2 set up as Hugging Face does) on a batch of cases, and renders the
// same cases with our engine, so that a test can compare the two.
#pragma once
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_support.h"
#include "text/jinja/json_value.h"
#include "text/jinja/template.h"

namespace dllm::test {

using ojson = nlohmann::ordered_json;

constexpr const char* kPython = "/usr/bin/python3";

// A fixed time for strftime_now(), so that both sides print the same date.
constexpr std::time_t kFixedNow = 1721995200;  // 2024-07-26 12:00 UTC

// The variables of the snippet and fuzz tests.
inline const char* const kSnippetVars = R"JSON({
  "s": "Hello, World",
  "u8": "héllo wörld ✓ 日本 🎉",
  "n": 42, "neg": -7, "f": 3.25, "big": 1e20, "small": 1e-7, "t": true, "fa": false, "z": null,
  "lst": [3, 1, 2], "strs": ["b", "A", "c"], "empty": [], "ed": {},
  "d": {"b": 1, "a": [1, 2, {"x": null}], "items": "not the method", "k y": "spaced", "f": 0.5},
  "nested": {"a": {"b": {"c": "deep"}}},
  "quote": "it's \"quoted\" \\ back\nline\ttab \u0001 \u007f \u2028 é",
  "objs": [{"name": "x", "v": 2}, {"name": "Y", "v": 0}, {"name": "a"}],
  "think": "<think>\nreasoning here\n</think>\n\nthe answer",
  "msgs": [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "  hi there \n"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"type": "function", "function": {"name": "get", "arguments": {"city": "Paris", "n": 2, "x": [1.5, true, null]}}}]},
    {"role": "tool", "content": "{\"t\": 20}", "tool_call_id": "c1"}
  ]
})JSON";

struct RenderResult {
  bool ok = false;
  std::string text;     // the output, or the error message
  bool raised = false;  // error came from raise_exception()
  bool unsupported = false;
};

// Why the oracle cannot run here, or "".
inline std::string jinja_oracle_missing() {
  if (!std::filesystem::exists(kPython)) return std::string(kPython) + " is missing (Debian python3)";
  CmdResult r = run_cmd({kPython, "-c", "import jinja2"});
  if (r.status != 0) return "python3-jinja2 is not installed";
  return "";
}

#define DLLM_REQUIRE_JINJA_ORACLE()                                  \
  do {                                                               \
    const std::string why = ::dllm::test::jinja_oracle_missing();    \
    if (!why.empty()) {                                              \
      if (::dllm::test::in_ci()) FAIL() << why << " (CI=true)";      \
      GTEST_SKIP() << why;                                           \
    }                                                                \
  } while (0)

struct OracleCase {
  size_t t = 0;  // index into the templates
  ojson vars = ojson::object();
};

// Renders every case with Python Jinja2; one result per case.
inline std::vector<RenderResult> run_jinja_oracle(const std::vector<std::string>& templates,
                                                  const std::vector<OracleCase>& cases) {
  ojson req;
  req["templates"] = templates;
  req["now"] = static_cast<int64_t>(kFixedNow);
  req["cases"] = ojson::array();
  for (const auto& c : cases) req["cases"].push_back({{"t", c.t}, {"vars", c.vars}});
  static int n = 0;
  const std::string in = temp_path("oracle_req_" + std::to_string(n) + ".json");
  const std::string out = temp_path("oracle_res_" + std::to_string(n++) + ".json");
  write_file(in, req.dump());
  CmdResult r = run_cmd({kPython, std::string(DELTALLM_SOURCE_DIR) + "/tests/scripts/jinja_oracle.py", in, out});
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<RenderResult> res;
  if (r.status != 0) return res;
  ojson j = ojson::parse(read_file(out));
  for (const auto& e : j) {
    RenderResult x;
    if (e.contains("ok")) {
      x.ok = true;
      x.text = e["ok"].get<std::string>();
    } else {
      x.text = e["error"].get<std::string>() + ": " + e["message"].get<std::string>();
      x.raised = e["raised"].get<bool>();
    }
    res.push_back(std::move(x));
  }
  EXPECT_EQ(res.size(), cases.size());
  return res;
}

// Our engine on the same variables.
inline RenderResult render_ours(const jinja::Template& t, const ojson& vars) {
  RenderResult r;
  try {
    std::vector<std::pair<std::string, jinja::Value>> v;
    for (const auto& [k, x] : vars.items()) v.emplace_back(k, jinja::from_json(x));
    jinja::RenderEnv env;
    env.now = [] { return kFixedNow; };
    r.text = t.render(v, env);
    r.ok = true;
  } catch (const jinja::TemplateError& e) {
    r.text = e.what();
    r.raised = e.kind() == jinja::ErrorKind::kRaised;
    r.unsupported = e.kind() == jinja::ErrorKind::kUnsupported;
    if (r.raised) r.text = e.detail();
  }
  return r;
}

// Python's message for raise_exception(msg) is "RaisedByTemplate: msg".
inline std::string raised_message(const RenderResult& py) {
  const std::string prefix = "RaisedByTemplate: ";
  return py.text.rfind(prefix, 0) == 0 ? py.text.substr(prefix.size()) : py.text;
}

// Checks one case: both render the same bytes, or both fail (with the same
// message when the template raised it).
inline ::testing::AssertionResult same_result(const RenderResult& py, const RenderResult& ours) {
  if (py.ok && ours.ok) {
    if (py.text == ours.text) return ::testing::AssertionSuccess();
    size_t i = 0;
    while (i < py.text.size() && i < ours.text.size() && py.text[i] == ours.text[i]) ++i;
    size_t from = i > 60 ? i - 60 : 0;
    return ::testing::AssertionFailure()
           << "outputs differ at byte " << i << "\n  python: " << ojson(py.text.substr(from, 160)).dump()
           << "\n  ours:   " << ojson(ours.text.substr(from, 160)).dump();
  }
  if (py.ok) return ::testing::AssertionFailure() << "python renders, ours fails: " << ours.text;
  if (ours.ok) return ::testing::AssertionFailure() << "python fails (" << py.text << "), ours renders: " << ojson(ours.text).dump();
  if (py.raised != ours.raised)
    return ::testing::AssertionFailure() << "different errors: python " << py.text << " / ours " << ours.text;
  if (py.raised && raised_message(py) != ours.text)
    return ::testing::AssertionFailure() << "raise_exception messages differ: python " << raised_message(py)
                                         << " / ours " << ours.text;
  return ::testing::AssertionSuccess();
}

}  // namespace dllm::test
