// The engine against the independent numpy reference (tests/reference) on
// generated models of all three architectures and their layout variants: a
// 100-token prompt in one batch, then 16 greedy single-token steps.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/model.h"
#include "runtime/context.h"
#include "support/logit_compare.h"
#include "support/test_support.h"
#include "support/tiny_models.h"

using namespace dllm;

namespace {

struct Variant {
  std::string name;
  gen::GenOptions opt;
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  auto add = [&](const std::string& name, const std::string& arch, const std::string& preset, auto tweak) {
    gen::GenOptions o;
    o.arch = arch;
    o.preset = preset;
    o.seed = 5;
    tweak(o);
    v.push_back({name, o});
  };
  auto none = [](gen::GenOptions&) {};
  add("qwen35_tiny", "qwen35", "tiny", none);
  add("qwen35_tiny_tied_mtp", "qwen35", "tiny", [](gen::GenOptions& o) { o.tied = true; o.mtp = 1; });
  add("qwen35_small", "qwen35", "small", none);
  add("qwen35moe_tiny", "qwen35moe", "tiny", none);
  add("qwen35moe_tiny_fused_mtp", "qwen35moe", "tiny", [](gen::GenOptions& o) { o.fused_gate_up = true; o.mtp = 1; });
  add("qwen35moe_small", "qwen35moe", "small", none);
  add("qwen3next_tiny_split", "qwen3next", "tiny", [](gen::GenOptions& o) { o.qwen3next_input = "split"; });
  add("qwen3next_tiny_fused", "qwen3next", "tiny", [](gen::GenOptions& o) { o.qwen3next_input = "fused"; o.tied = true; });
  add("qwen3next_small", "qwen3next", "small", none);
  return v;
}

int greedy(const float* l, const std::vector<bool>& unusable) {
  int best = -1;
  for (int i = 0; i < int(unusable.size()); ++i)
    if (!unusable[i] && (best < 0 || l[i] > l[best])) best = i;
  return best;
}

class EngineVsReference : public ::testing::TestWithParam<Variant> {};

TEST_P(EngineVsReference, PromptThenGreedySteps) {
  const std::string ref_script = std::string(DELTALLM_SOURCE_DIR) + "/tests/reference/deltallm_ref.py";
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is missing";
  const std::string path = test::generated_model(GetParam().opt);
  auto model = Model::load(path);
  const int64_t V = model->hparams().n_vocab;
  std::vector<bool> unusable(V, false);
  if (const GgufValue* tt = model->file().find("tokenizer.ggml.token_type"))
    for (size_t i = 0; i < tt->items.size() && i < size_t(V); ++i) unusable[i] = tt->items[i].as_int() == 5;

  const int n_prompt = 100, n_steps = 16;
  std::vector<int32_t> prompt(n_prompt);
  for (int i = 0; i < n_prompt; ++i) prompt[i] = int32_t((i * 7919 + 13) % V);
  // engine
  ContextParams cp;
  cp.n_ctx = 256;
  cp.n_threads = 2;
  Context ctx(*model, cp);
  std::vector<BatchEntry> b;
  for (int i = 0; i < n_prompt; ++i) b.push_back({prompt[i], i, 0, true});
  ASSERT_TRUE(ctx.decode(b));
  std::vector<float> ours(size_t(n_prompt + n_steps) * V);
  for (int i = 0; i < n_prompt; ++i) std::copy_n(ctx.logits(i), V, ours.data() + size_t(i) * V);
  std::vector<int> our_tokens;
  int tok = greedy(ctx.logits(n_prompt - 1), unusable);
  for (int s = 0; s < n_steps; ++s) {
    our_tokens.push_back(tok);
    ASSERT_TRUE(ctx.decode({{tok, int64_t(n_prompt + s), 0, true}}));
    std::copy_n(ctx.logits(0), V, ours.data() + size_t(n_prompt + s) * V);
    tok = greedy(ctx.logits(0), unusable);
  }
  // reference
  std::string ids;
  for (int i = 0; i < n_prompt; ++i) {
    if (i) ids += ',';
    ids += std::to_string(prompt[i]);
  }
  const std::string out = test::temp_path(GetParam().name + ".ref.f32");
  auto r = test::run_cmd({"/usr/bin/python3", ref_script, "--model", path, "--tokens", ids, "--decode",
                          std::to_string(n_steps), "--logits-out", out});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<float> ref = test::read_f32_file(out);
  ASSERT_EQ(ref.size(), ours.size());
  // Compare the prompt rows, and the decode rows up to the first greedy
  // divergence (which is only allowed on a near-tie).
  std::vector<int> ref_tokens;
  {
    std::string s = r.out;
    size_t p = 0;
    while (p < s.size()) {
      size_t q = s.find_first_of(",\n ", p);
      if (q == std::string::npos) q = s.size();
      if (q > p) ref_tokens.push_back(std::stoi(s.substr(p, q - p)));
      p = q + 1;
    }
  }
  int rows = n_prompt;
  for (int s = 0; s < n_steps; ++s) {
    rows = n_prompt + s + 1;
    if (s < int(ref_tokens.size()) && ref_tokens[s] != our_tokens[s]) {
      rows = n_prompt + s;
      break;
    }
  }
  const auto st = test::compare_logits(ref.data(), ours.data(), rows, V);
  std::printf("[ compare ] %-28s rows %d  rel %.2e  argmax mismatches %d\n", GetParam().name.c_str(), rows, st.rel(),
              st.argmax_mismatch);
  EXPECT_LE(st.rel(), 1e-3);
  EXPECT_EQ(st.argmax_mismatch, 0);
  EXPECT_GE(rows, n_prompt + 1);
}

INSTANTIATE_TEST_SUITE_P(Generated, EngineVsReference, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant>& i) { return i.param.name; });

}  // namespace
