// The engine against the reference engine's logits in ../shared/testdata, in
// both paths (prompt as one batch, and one token per batch), with the
// tolerances of testdata/README.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "model/model.h"
#include "runtime/context.h"
#include "support/engine_logits.h"
#include "support/logit_compare.h"
#include "support/test_support.h"

using namespace dllm;

namespace {

enum class Tol { Exact /* f32, F16 */, Bf16, QuantDense, QuantMoe, Iq4xs };

struct Case {
  std::string model;   // file name without .gguf
  std::string tokens;  // token file
  Tol tol;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  for (const char* t : {"f32", "F16"}) c.push_back({std::string("qwen35-tiny-") + t, "tokens.i32", Tol::Exact});
  c.push_back({"qwen35-tiny-BF16", "tokens.i32", Tol::Bf16});
  for (const char* t : {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL",
                        "Q4_K_M"})
    c.push_back({std::string("qwen35-tiny-") + t, "tokens.i32", Tol::QuantDense});
  c.push_back({"qwen35-tiny-IQ4_XS", "tokens.i32", Tol::Iq4xs});
  c.push_back({"qwen35moe-tiny-f32", "tokens.i32", Tol::Exact});
  c.push_back({"qwen35moe-tiny-Q8_0", "tokens.i32", Tol::QuantMoe});
  c.push_back({"qwen35moe-tiny-Q4_K_M", "tokens.i32", Tol::QuantMoe});
  c.push_back({"qwen3next-tiny-f32", "tokens.i32", Tol::Exact});
  c.push_back({"qwen3next-tiny-Q8_0", "tokens.i32", Tol::QuantMoe});
  c.push_back({"qwen3next-tiny-Q4_K_M", "tokens.i32", Tol::QuantMoe});
  c.push_back({"qwen35-small-f32", "tokens300.i32", Tol::Exact});
  c.push_back({"qwen35-small-Q4_K_M", "tokens300.i32", Tol::QuantDense});
  c.push_back({"qwen35-deep-Q8_0", "tokens200.i32", Tol::QuantDense});
  return c;
}

bool model_supported(const Model* m) { return m != nullptr; }

class TestdataLogits : public ::testing::TestWithParam<Case> {};

TEST_P(TestdataLogits, BatchAndSeqPaths) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const Case& c = GetParam();
  const std::string path = td + "/" + c.model + ".gguf";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  std::unique_ptr<Model> model;
  try {
    model = Model::load(path);
  } catch (const std::exception& e) {
    // A quantization type whose kernels have not landed yet.
    if (std::string(e.what()).find("not supported yet") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  ASSERT_TRUE(model_supported(model.get()));
  const std::vector<int> tokens = test::read_i32_file(td + "/" + c.tokens);
  const int64_t V = model->hparams().n_vocab;
  for (const char* mode : {"batch", "seq"}) {
    const std::string ref_path = td + "/logits/" + c.model + "." + mode + ".f32";
    if (!std::filesystem::exists(ref_path)) continue;
    const std::vector<float> ref = test::read_f32_file(ref_path);
    ASSERT_EQ(ref.size(), tokens.size() * V) << ref_path;
    const std::vector<float> ours = test::engine_logits(*model, tokens, std::string(mode) == "batch", 512);
    const test::LogitStats s = test::compare_logits(ref.data(), ours.data(), int64_t(tokens.size()), V);
    const std::string what = c.model + " " + mode;
    std::printf("[ compare ] %-28s %-5s rel %.2e  KL %.2e  min corr %.5f  rows<0.99 %d\n", c.model.c_str(), mode,
                s.rel(), s.mean_kl, s.min_corr, s.rows_corr_below_099);
    switch (c.tol) {
      case Tol::Exact:
        EXPECT_LE(s.rel(), 1e-3) << what;
        EXPECT_EQ(s.argmax_mismatch, 0) << what;
        break;
      case Tol::Bf16:
        EXPECT_LE(s.mean_kl, 1e-5) << what;
        break;
      case Tol::QuantDense:
        EXPECT_LE(s.mean_kl, 1e-4) << what;
        EXPECT_GE(s.min_corr, 0.99) << what;
        break;
      case Tol::Iq4xs:
        EXPECT_LE(s.mean_kl, 2e-3) << what;
        EXPECT_GE(s.min_corr, 0.98) << what;
        break;
      case Tol::QuantMoe:
        EXPECT_LE(s.mean_kl, 1e-4) << what;
        EXPECT_LE(s.rows_corr_below_099, 2) << what;
        EXPECT_GE(s.min_corr, 0.95) << what;
        break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, TestdataLogits, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = i.param.model;
                           for (char& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
