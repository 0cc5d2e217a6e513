// Differential fuzzing against Python Jinja2: a few thousand random templates
// (tests/scripts/jinja_fuzz_gen.py: operators, filters, tests, methods,
// slices, conditional expressions in if/for/set/macro statements with
// whitespace control) rendered by both engines with the snippet variables.
// Each must render the same bytes or fail on both sides; our deliberate
// "unsupported" refusals are allowed but must stay rare. The seed is fixed
// (DELTALLM_JINJA_FUZZ_SEED and DELTALLM_JINJA_FUZZ_COUNT override it).
#include <gtest/gtest.h>

#include <cstdlib>

#include "text/jinja_oracle.h"

namespace dllm::test {
namespace {

long env_or(const char* name, long def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : def;
}

TEST(JinjaFuzz, RandomTemplatesMatchJinja2) {
  DLLM_REQUIRE_JINJA_ORACLE();
  const long seed = env_or("DELTALLM_JINJA_FUZZ_SEED", 20240726);
  const long count = env_or("DELTALLM_JINJA_FUZZ_COUNT", 3000);
  const std::string vars_path = temp_path("fuzz_vars.json"), req_path = temp_path("fuzz_req.json");
  write_file(vars_path, kSnippetVars);
  CmdResult g = run_cmd({kPython, std::string(DELTALLM_SOURCE_DIR) + "/tests/scripts/jinja_fuzz_gen.py",
                         std::to_string(seed), std::to_string(count), vars_path, req_path});
  ASSERT_EQ(g.status, 0) << g.err;
  const ojson req = ojson::parse(read_file(req_path));
  std::vector<std::string> templates;
  std::vector<OracleCase> cases;
  for (const auto& t : req["templates"]) templates.push_back(t.get<std::string>());
  for (const auto& c : req["cases"]) cases.push_back({c["t"].get<size_t>(), c["vars"]});
  const std::vector<RenderResult> py = run_jinja_oracle(templates, cases);
  ASSERT_EQ(py.size(), cases.size());

  size_t identical = 0, both_fail = 0, refused = 0, mismatches = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    RenderResult ours;
    try {
      jinja::Template t(templates[i]);
      ours = render_ours(t, cases[i].vars);
    } catch (const jinja::TemplateError& e) {
      ours.text = e.what();
      ours.unsupported = e.kind() == jinja::ErrorKind::kUnsupported;
    }
    if (py[i].ok && !ours.ok && ours.unsupported) {
      ++refused;
      continue;
    }
    ::testing::AssertionResult same = same_result(py[i], ours);
    if (!same) {
      if (++mismatches <= 10) ADD_FAILURE() << "template " << i << ": " << ojson(templates[i]).dump() << "\n" << same.message();
      continue;
    }
    (py[i].ok ? identical : both_fail) += 1;
  }
  std::printf("seed %ld: %zu identical renders, %zu fail on both sides, %zu refused as unsupported, %zu mismatches\n",
              seed, identical, both_fail, refused, mismatches);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GE(identical, static_cast<size_t>(count / 10)) << "too few templates render: the generator needs work";
  EXPECT_LE(refused, static_cast<size_t>(count / 200));
}

}  // namespace
}  // namespace dllm::test
