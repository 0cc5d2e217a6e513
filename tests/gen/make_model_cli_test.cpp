// `deltallm make-model`: writes what the library writes for the same options,
// and rejects bad flags with exit status 1 and one clear line.
#include <gtest/gtest.h>

#include <filesystem>

#include "gen/model_generator.h"
#include "support/test_support.h"

namespace dllm::gen {
namespace {

using test::read_file;
using test::run_deltallm;
using test::temp_path;

std::string lib_bytes(const GenOptions& o, const std::string& tag) {
  const std::string path = temp_path(tag + "-lib.gguf");
  generate_model(o, path);
  return read_file(path);
}

TEST(MakeModelCli, DefaultsAreF32Seed0) {
  const std::string out = temp_path("cli-default.gguf");
  const auto r = run_deltallm({"make-model", "--arch", "qwen35", "--preset", "tiny", "-o", out});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");  // stdout carries only a product; this command has none
  GenOptions o;
  EXPECT_TRUE(read_file(out) == lib_bytes(o, "cli-default"));
}

TEST(MakeModelCli, FlagsMapToOptions) {
  const std::string out = temp_path("cli-flags.gguf");
  const auto r = run_deltallm({"make-model", "--arch", "qwen35moe", "--preset", "tiny", "--dtype", "q8_0", "--seed", "7",
                               "--mtp", "1", "--tied", "--fused-gate-up", "-o", out});
  ASSERT_EQ(r.status, 0) << r.err;
  GenOptions o;
  o.arch = "qwen35moe";
  o.dtype = GgmlType::Q8_0;
  o.seed = 7;
  o.mtp = 1;
  o.tied = true;
  o.fused_gate_up = true;
  EXPECT_TRUE(read_file(out) == lib_bytes(o, "cli-flags"));

  const std::string out2 = temp_path("cli-next.gguf");
  const auto r2 = run_deltallm({"make-model", "--arch", "qwen3next", "--preset", "small", "--dtype", "BF16",
                                "--qwen3next-input", "fused", "--output", out2});
  ASSERT_EQ(r2.status, 0) << r2.err;
  GenOptions o2;
  o2.arch = "qwen3next";
  o2.preset = "small";
  o2.dtype = GgmlType::BF16;
  o2.qwen3next_input = "fused";
  EXPECT_TRUE(read_file(out2) == lib_bytes(o2, "cli-next"));
}

TEST(MakeModelCli, Help) {
  const auto r = run_deltallm({"make-model", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--arch"), std::string::npos);
  EXPECT_NE(r.out.find("--qwen3next-input"), std::string::npos);
}

TEST(MakeModelCli, BadFlagsFailWithOneLine) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--arch", "llama", "--preset", "tiny"}, "unknown architecture 'llama'"},
      {{"--arch", "qwen35", "--preset", "medium"}, "unknown preset 'medium'"},
      {{"--arch", "qwen35", "--preset", "tiny", "--dtype", "q9_9"}, "unknown --dtype 'q9_9'"},
      {{"--arch", "qwen3next", "--preset", "qwen35-0.8b"}, "preset qwen35-0.8b is a qwen35 model"},
      {{"--arch", "qwen3next", "--preset", "tiny", "--mtp", "1"}, "qwen3next files have no MTP layers"},
      {{"--arch", "qwen35", "--preset", "tiny", "--mtp", "-2"}, "--mtp must be between 0 and 16"},
      {{"--arch", "qwen35", "--preset", "tiny", "--fused-gate-up"}, "--fused-gate-up needs a MoE architecture"},
      {{"--arch", "qwen35moe", "--preset", "tiny", "--qwen3next-input", "split"}, "--qwen3next-input is only for"},
      {{"--arch", "qwen3next", "--preset", "tiny", "--qwen3next-input", "mixed"}, "unknown --qwen3next-input 'mixed'"},
      {{"--arch", "qwen35", "--preset", "tiny", "--seed", "abc"}, "--seed"},
      {{"--arch", "qwen35", "--preset", "tiny", "--bogus"}, "--bogus"},
      {{"--preset", "tiny"}, "--arch"},
  };
  int i = 0;
  for (const Case& c : cases) {
    const std::string out = temp_path("bad-" + std::to_string(i++) + ".gguf");
    std::vector<std::string> args = {"make-model"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.push_back("-o");
    args.push_back(out);
    const auto r = run_deltallm(args);
    SCOPED_TRACE(c.message);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("deltallm: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
  // Missing -o.
  const auto r = run_deltallm({"make-model", "--arch", "qwen35", "--preset", "tiny"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--output"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dllm::gen
