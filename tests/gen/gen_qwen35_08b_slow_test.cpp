// The qwen35-0.8b preset in Q8_0: generated once, read back, shapes and
// metadata checked against Qwen3.5-0.8B (models.md §6). Slow: not run under
// the sanitizers.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "formats/gguf.h"
#include "gen/model_generator.h"
#include "support/test_support.h"

namespace dllm::gen {
namespace {

TEST(Qwen35_08b, Q8_0ShapesAndMetadata) {
  GenOptions o;
  o.arch = "qwen35";
  o.preset = "qwen35-0.8b";
  o.dtype = GgmlType::Q8_0;
  const std::string path = test::temp_path("qwen35-0.8b-q8_0.gguf");
  const auto t0 = std::chrono::steady_clock::now();
  generate_model(o, path);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("generated qwen35-0.8b Q8_0 (%.0f MiB) in %.1f s\n",
              double(std::filesystem::file_size(path)) / (1024.0 * 1024.0), secs);

  auto f = GgufFile::open(path);
  EXPECT_EQ(*f->get_str("general.architecture"), "qwen35");
  EXPECT_EQ(f->require_u32("general.file_type"), 7u);
  EXPECT_EQ(f->require_u32("qwen35.block_count"), 24u);
  EXPECT_EQ(f->require_u32("qwen35.context_length"), 262144u);
  EXPECT_EQ(f->require_u32("qwen35.embedding_length"), 1024u);
  EXPECT_EQ(f->require_u32("qwen35.feed_forward_length"), 3584u);
  EXPECT_EQ(f->require_u32("qwen35.attention.head_count"), 8u);
  EXPECT_EQ(f->require_u32("qwen35.attention.head_count_kv"), 2u);
  EXPECT_EQ(f->require_u32("qwen35.attention.key_length"), 256u);
  EXPECT_EQ(f->require_u32("qwen35.attention.value_length"), 256u);
  EXPECT_EQ(f->require_u32("qwen35.rope.dimension_count"), 64u);
  EXPECT_FLOAT_EQ(*f->get_f32("qwen35.rope.freq_base"), 1e7f);
  EXPECT_FLOAT_EQ(*f->get_f32("qwen35.attention.layer_norm_rms_epsilon"), 1e-6f);
  EXPECT_EQ(f->require_u32("qwen35.ssm.conv_kernel"), 4u);
  EXPECT_EQ(f->require_u32("qwen35.ssm.state_size"), 128u);
  EXPECT_EQ(f->require_u32("qwen35.ssm.group_count"), 16u);
  EXPECT_EQ(f->require_u32("qwen35.ssm.time_step_rank"), 16u);
  EXPECT_EQ(f->require_u32("qwen35.ssm.inner_size"), 2048u);
  EXPECT_EQ(f->require_u32("qwen35.full_attention_interval"), 4u);
  EXPECT_EQ(f->find("qwen35.nextn_predict_layers"), nullptr);  // --mtp defaults to 0
  const GgufValue* sec = f->get_array("qwen35.rope.dimension_sections");
  ASSERT_NE(sec, nullptr);
  EXPECT_TRUE(*sec == GgufValue::i32_array({11, 11, 10, 0}));
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens")->items.size(), 248320u);
  EXPECT_EQ(f->get_array("tokenizer.ggml.token_type")->items.size(), 248320u);
  EXPECT_EQ(*f->get_str("tokenizer.ggml.pre"), "qwen35");

  auto expect = [&](const std::string& name, std::vector<int64_t> ne, GgmlType t) {
    const GgufTensorInfo* ti = f->find_tensor(name);
    ASSERT_NE(ti, nullptr) << name;
    EXPECT_EQ(std::vector<int64_t>(ti->ne, ti->ne + ti->n_dims), ne) << name;
    EXPECT_EQ(ti->ggml_type(), t) << name;
  };
  const GgmlType Q = GgmlType::Q8_0, F = GgmlType::F32;
  expect("token_embd.weight", {1024, 248320}, Q);
  expect("output_norm.weight", {1024}, F);
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);  // tied
  size_t n_tensors = 3 - 1;
  for (int il = 0; il < 24; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    expect(b + "attn_norm.weight", {1024}, F);
    expect(b + "post_attention_norm.weight", {1024}, F);
    expect(b + "ffn_gate.weight", {1024, 3584}, Q);
    expect(b + "ffn_up.weight", {1024, 3584}, Q);
    expect(b + "ffn_down.weight", {3584, 1024}, Q);
    if ((il + 1) % 4 != 0) {
      expect(b + "attn_qkv.weight", {1024, 6144}, Q);
      expect(b + "attn_gate.weight", {1024, 2048}, Q);
      expect(b + "ssm_beta.weight", {1024, 16}, Q);
      expect(b + "ssm_alpha.weight", {1024, 16}, Q);
      expect(b + "ssm_conv1d.weight", {4, 6144}, F);
      expect(b + "ssm_dt.bias", {16}, F);
      expect(b + "ssm_a", {16}, F);
      expect(b + "ssm_norm.weight", {128}, F);
      expect(b + "ssm_out.weight", {2048, 1024}, Q);
      n_tensors += 14;
    } else {
      expect(b + "attn_q.weight", {1024, 4096}, Q);
      expect(b + "attn_k.weight", {1024, 512}, Q);
      expect(b + "attn_v.weight", {1024, 512}, Q);
      expect(b + "attn_output.weight", {2048, 1024}, Q);
      expect(b + "attn_q_norm.weight", {256}, F);
      expect(b + "attn_k_norm.weight", {256}, F);
      n_tensors += 11;
    }
  }
  EXPECT_EQ(f->tensors().size(), n_tensors);
  int64_t n_params = 0;
  for (const auto& t : f->tensors()) n_params += t.n_elements();
  std::printf("%lld parameters\n", static_cast<long long>(n_params));
  EXPECT_GT(n_params, 700'000'000);
  EXPECT_LT(n_params, 800'000'000);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace dllm::gen
