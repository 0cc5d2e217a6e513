// Helpers shared by the tests: where the test data and the CLI binary are,
// temporary files, running the CLI and capturing its output.
#pragma once
#include <string>
#include <vector>

namespace dllm::test {

// ../shared/testdata, or "" when it is absent. In CI (CI=true) absence is a
// test failure (call require_testdata()); elsewhere tests GTEST_SKIP().
std::string testdata_dir();
// Returns the testdata dir or skips/fails the current test. Use as
//   std::string td; DLLM_REQUIRE_TESTDATA(td);
#define DLLM_REQUIRE_TESTDATA(var)                                                   \
  do {                                                                               \
    var = ::dllm::test::testdata_dir();                                              \
    if (var.empty()) {                                                               \
      if (::dllm::test::in_ci()) FAIL() << "../shared/testdata is missing (CI=true)"; \
      GTEST_SKIP() << "../shared/testdata is absent";                                \
    }                                                                                \
  } while (0)
bool in_ci();

// Path of build/bin/deltallm of this build.
std::string deltallm_bin();
// A fresh temporary directory for this test process (removed at exit).
std::string temp_dir();
std::string temp_path(const std::string& name);

struct CmdResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `argv` (argv[0] is the program) with optional stdin text; no shell.
CmdResult run_cmd(const std::vector<std::string>& argv, const std::string& stdin_text = "");
// Runs build/bin/deltallm with these arguments.
CmdResult run_deltallm(const std::vector<std::string>& args, const std::string& stdin_text = "");

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
std::vector<float> read_f32_file(const std::string& path);
std::vector<int> read_i32_file(const std::string& path);

}  // namespace dllm::test
