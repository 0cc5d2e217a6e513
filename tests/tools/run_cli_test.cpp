// `deltallm run`: ids in/ids out, text streaming, logits file, and the bad
// inputs of issues 4 and 5 (each a one-line error and exit status 1).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "support/tiny_models.h"

using dllm::test::run_deltallm;

namespace {

void expect_error(const dllm::test::CmdResult& r, const std::string& text) {
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err.rfind("deltallm: error: ", 0) == std::string::npos ? r.err.find("\ndeltallm: error: ") : 0, 0u)
      << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
}

TEST(RunCli, TokensInIdsOut) {
  const std::string m = dllm::test::tiny_model("qwen35moe");
  auto r = run_deltallm({"run", "-m", m, "--tokens", "1,2,3,1023,0", "-n", "6", "--ignore-eos", "-t", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  // one line of 6 comma-separated ids, nothing else on stdout
  ASSERT_EQ(r.out.back(), '\n');
  int commas = 0;
  for (char c : r.out.substr(0, r.out.size() - 1)) {
    EXPECT_TRUE(isdigit(static_cast<unsigned char>(c)) || c == ',') << r.out;
    commas += c == ',';
  }
  EXPECT_EQ(commas, 5);
  EXPECT_NE(r.err.find("memory plan"), std::string::npos);
  // greedy: the same again; batch and seq prompt paths agree
  auto r2 = run_deltallm({"run", "-m", m, "--tokens", "1,2,3,1023,0", "-n", "6", "--ignore-eos", "--logits-mode", "seq"});
  EXPECT_EQ(r2.out, r.out);
}

TEST(RunCli, LogitsFileHasEveryPromptRow) {
  const std::string m = dllm::test::tiny_model("qwen3next");
  const std::string out = dllm::test::temp_path("run-logits.f32");
  auto r = run_deltallm({"run", "-m", m, "--tokens", "5,6,7,8", "-n", "0", "--logits-out", out});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(dllm::test::read_file(out).size(), size_t(4 * 1024 * 4));
}

TEST(RunCli, TextIsStreamed) {
  const std::string m = dllm::test::tiny_model("qwen35");
  auto r = run_deltallm({"run", "-m", m, "-p", "the people and the world", "-n", "10", "--seed", "1", "--ignore-eos"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_NE(r.err.find("tok/s"), std::string::npos);
  auto r2 = run_deltallm({"run", "-m", m, "-p", "the people and the world", "-n", "10", "--seed", "1", "--ignore-eos"});
  EXPECT_EQ(r.out, r2.out);  // same seed, same text
}

TEST(RunCli, BadInputs) {
  const std::string m = dllm::test::tiny_model("qwen35");
  expect_error(run_deltallm({"run", "-m", m, "--tokens", "1,1024"}), "token id 1024");
  expect_error(run_deltallm({"run", "-m", m, "--tokens", "1,x"}), "'x' is not a token id");
  expect_error(run_deltallm({"run", "-m", m, "--tokens", "1", "-p", "hi"}), "excludes");
  expect_error(run_deltallm({"run", "-m", m, "-p", "bad \xff utf8"}), "UTF-8");
  expect_error(run_deltallm({"run", "-m", m, "-p", std::string(3000, 'a') + " b c", "-c", "64"}), "context");
  expect_error(run_deltallm({"run", "-m", m, "--tokens", "1,2", "-n", "100", "-c", "16"}), "context size 16");
  expect_error(run_deltallm({"run", "-m", "/nonexistent.gguf", "--tokens", "1"}), "nonexistent.gguf");
  expect_error(run_deltallm({"run", "-m", m}), "-p TEXT or --tokens");
  expect_error(run_deltallm({"run", "-m", m, "--tokens", "1", "--temp", "abc"}), "temp");
}

}  // namespace

// `deltallm bench --json`: the record fields scripts read (test names with the
// depth, every repetition, the median) and the --membw probe's figures.
TEST(BenchCli, JsonRecordsAndMembw) {
  const std::string m = dllm::test::tiny_model("qwen35");
  auto r = run_deltallm({"bench", "-m", m, "-p", "8", "-n", "4", "-r", "2", "-d", "16", "-t", "2", "--json", "--membw"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["test"], "pp8@d16");
  EXPECT_EQ(j[1]["test"], "tg4@d16");
  for (const auto& rec : j) {
    ASSERT_EQ(rec["tokens_per_s"].size(), 2u);
    EXPECT_GT(rec["median_tokens_per_s"].get<double>(), 0.0);
  }
  EXPECT_GT(j[1]["membw_gb_per_s"].get<double>(), 0.0);
  EXPECT_GT(j[1]["membw_share"].get<double>(), 0.0);
  EXPECT_FALSE(j[0].contains("membw_gb_per_s"));
  EXPECT_NE(r.err.find("warm-up"), std::string::npos);
  EXPECT_NE(r.err.find("memory read bandwidth"), std::string::npos);
}
