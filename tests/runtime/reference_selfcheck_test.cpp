// The numpy reference (tests/reference) must itself reproduce the reference
// engine's stored logits before the engine is judged against it: runs
// tests/reference/selfcheck.py (stored F32 logits within 1e-4 x max|logit|,
// layout variants, state continuation, the CLI, the Q8_0 activation rounding).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "support/test_support.h"

namespace {

TEST(ReferenceSelfcheck, ReproducesStoredLogits) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  if (!std::filesystem::exists("/usr/bin/python3")) {
    if (dllm::test::in_ci()) FAIL() << "/usr/bin/python3 is missing (CI=true)";
    GTEST_SKIP() << "/usr/bin/python3 is missing";
  }
  const std::string script = std::string(DELTALLM_SOURCE_DIR) + "/tests/reference/selfcheck.py";
  const auto r = dllm::test::run_cmd({"/usr/bin/python3", script, "--testdata", td});
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  // Every line is "ok" / "FAIL"; the summary says how many comparisons ran.
  EXPECT_NE(r.out.find("checks passed"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored  qwen35-small-f32"), std::string::npos) << r.out;
}

}  // namespace
