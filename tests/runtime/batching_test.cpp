// Recurrent state and sequences: a prefill in one batch equals single-token
// steps; several sequences in one batch equal each alone; slots are reusable;
// bad batches are rejected with state unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/model.h"
#include "runtime/context.h"
#include "util/error.h"
#include "support/test_support.h"
#include "support/tiny_models.h"

using namespace dllm;

namespace {

std::vector<int32_t> make_tokens(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> t(n);
  uint32_t s = seed * 2654435761u + 12345;
  for (int i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    t[i] = int32_t((s >> 8) % uint32_t(vocab));
  }
  return t;
}

ContextParams params(int n_seq = 1, int n_batch = 512) {
  ContextParams p;
  p.n_ctx = 256;
  p.n_seq = n_seq;
  p.n_batch = n_batch;
  p.n_threads = 2;
  p.kv_type = KvType::F32;
  return p;
}

// max |a-b| / max |a| over two float arrays
double rel_diff(const float* a, const float* b, size_t n) {
  double md = 0, ma = 0;
  for (size_t i = 0; i < n; ++i) {
    md = std::max(md, double(std::fabs(a[i] - b[i])));
    ma = std::max(ma, double(std::fabs(a[i])));
  }
  return ma > 0 ? md / ma : md;
}

double state_rel_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size() || a.size() < 8) return 1e9;
  const size_t n = (a.size() - 8) / 4;
  std::vector<float> fa(n), fb(n);
  std::memcpy(fa.data(), a.data() + 8, n * 4);
  std::memcpy(fb.data(), b.data() + 8, n * 4);
  return rel_diff(fa.data(), fb.data(), n);
}

class PerArch : public ::testing::TestWithParam<std::string> {};

TEST_P(PerArch, PrefillEqualsSingleSteps) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  for (int n : {1, 7, 64, 65, 130}) {
    const auto toks = make_tokens(n, int(V), 7);
    Context a(*model, params()), b(*model, params(1, 1));
    std::vector<BatchEntry> batch;
    for (int i = 0; i < n; ++i) batch.push_back({toks[i], i, 0, true});
    ASSERT_TRUE(a.decode(batch));
    double worst = 0;
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(b.decode({{toks[i], i, 0, true}}));
      worst = std::max(worst, rel_diff(b.logits(0), a.logits(i), size_t(V)));
    }
    EXPECT_LE(worst, 1e-5) << GetParam() << " n=" << n;
    EXPECT_LE(state_rel_diff(b.seq_state(0), a.seq_state(0)), 1e-5) << GetParam() << " n=" << n;
  }
}

TEST_P(PerArch, PrefillSplitOverMicroBatchesEqualsOneBatch) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  const auto toks = make_tokens(100, int(V), 3);
  Context a(*model, params()), b(*model, params(1, 16));
  std::vector<BatchEntry> batch;
  for (int i = 0; i < 100; ++i) batch.push_back({toks[i], i, 0, i == 99});
  a.decode(batch);
  b.decode(batch);
  EXPECT_LE(rel_diff(a.logits(0), b.logits(0), size_t(V)), 1e-5);
}

TEST_P(PerArch, MixedSequencesEqualEachAlone) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  // 4 sequences of different lengths, interleaved in one batch, then one
  // decode step each in a mixed batch.
  std::vector<std::vector<int32_t>> prompts;
  for (int s = 0; s < 4; ++s) prompts.push_back(make_tokens(5 + 3 * s, int(V), 100 + s));
  Context multi(*model, params(4));
  std::vector<BatchEntry> batch;
  for (int i = 0; i < 14; ++i)
    for (int s = 0; s < 4; ++s)
      if (i < int(prompts[s].size())) batch.push_back({prompts[s][i], i, s, i + 1 == int(prompts[s].size())});
  ASSERT_TRUE(multi.decode(batch));
  std::vector<std::vector<float>> multi_logits(4);
  for (int s = 0; s < 4; ++s) multi_logits[s].assign(multi.logits(s), multi.logits(s) + V);  // rows in batch order
  // batch order of the logit rows: sequences finish at i = 4, 7, 10, 13 -> s = 0..3
  std::vector<BatchEntry> step;
  for (int s = 0; s < 4; ++s) step.push_back({int32_t(s + 1), int64_t(prompts[s].size()), s, true});
  ASSERT_TRUE(multi.decode(step));
  for (int s = 0; s < 4; ++s) {
    Context alone(*model, params());
    std::vector<BatchEntry> b;
    for (size_t i = 0; i < prompts[s].size(); ++i) b.push_back({prompts[s][i], int64_t(i), 0, i + 1 == prompts[s].size()});
    ASSERT_TRUE(alone.decode(b));
    EXPECT_LE(rel_diff(alone.logits(0), multi_logits[s].data(), size_t(V)), 1e-6) << "prefill seq " << s;
    ASSERT_TRUE(alone.decode({{int32_t(s + 1), int64_t(prompts[s].size()), 0, true}}));
    EXPECT_LE(rel_diff(alone.logits(0), multi.logits(s), size_t(V)), 1e-6) << "step seq " << s;
  }
}

TEST_P(PerArch, IdenticalPromptsGiveBitIdenticalLogits) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  const auto toks = make_tokens(20, int(V), 5);
  Context ctx(*model, params(4));
  std::vector<BatchEntry> batch;
  for (int s = 0; s < 4; ++s)
    for (int i = 0; i < 20; ++i) batch.push_back({toks[i], i, s, i == 19});
  ASSERT_TRUE(ctx.decode(batch));
  for (int s = 1; s < 4; ++s) EXPECT_EQ(0, std::memcmp(ctx.logits(0), ctx.logits(s), V * sizeof(float))) << s;
  std::vector<BatchEntry> step;
  for (int s = 0; s < 4; ++s) step.push_back({42, 20, s, true});
  ASSERT_TRUE(ctx.decode(step));
  for (int s = 1; s < 4; ++s) EXPECT_EQ(0, std::memcmp(ctx.logits(0), ctx.logits(s), V * sizeof(float))) << s;
}

TEST_P(PerArch, ReusedSlotBehavesLikeFresh) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  const auto first = make_tokens(30, int(V), 11), second = make_tokens(12, int(V), 12);
  auto run = [&](Context& c, const std::vector<int32_t>& t) {
    std::vector<BatchEntry> b;
    for (size_t i = 0; i < t.size(); ++i) b.push_back({t[i], int64_t(i), 0, i + 1 == t.size()});
    c.decode(b);
    return std::vector<float>(c.logits(0), c.logits(0) + V);
  };
  Context fresh(*model, params());
  const auto want = run(fresh, second);
  // (a) after seq_clear, (b) restarting at position 0 without a clear
  Context used(*model, params());
  run(used, first);
  used.seq_clear(0);
  EXPECT_EQ(0, std::memcmp(want.data(), run(used, second).data(), V * sizeof(float)));
  run(used, first);
  EXPECT_EQ(0, std::memcmp(want.data(), run(used, second).data(), V * sizeof(float)));
}

TEST_P(PerArch, SeqCopyContinuesLikeTheOriginal) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  const auto toks = make_tokens(25, int(V), 21);
  Context ctx(*model, params(2));
  std::vector<BatchEntry> b;
  for (int i = 0; i < 25; ++i) b.push_back({toks[i], i, 0, false});
  ctx.decode(b);
  ctx.seq_copy(0, 1);
  EXPECT_EQ(ctx.seq_len(1), 25);
  ctx.decode({{7, 25, 0, true}, {7, 25, 1, true}});
  EXPECT_EQ(0, std::memcmp(ctx.logits(0), ctx.logits(1), V * sizeof(float)));
}

TEST_P(PerArch, BadBatchesAreRejectedAndChangeNothing) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  ContextParams p = params(2);
  p.n_ctx = 32;
  Context ctx(*model, p);
  ctx.decode({{1, 0, 0, false}, {2, 1, 0, false}, {3, 2, 0, true}});
  const auto before = ctx.seq_state(0);
  auto expect_error = [&](const std::vector<BatchEntry>& b, const std::string& text) {
    try {
      ctx.decode(b);
      ADD_FAILURE() << "no error, expected: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
    EXPECT_EQ(ctx.seq_len(0), 3);
    EXPECT_EQ(ctx.seq_state(0), before);
  };
  expect_error({{4, 3, 0, true}, {int32_t(V), 4, 0, true}}, "token id " + std::to_string(V));
  expect_error({{-1, 3, 0, true}}, "token id -1");
  expect_error({{4, 5, 0, true}}, "sequence 0 expects position 3");
  expect_error({{4, 3, 0, true}, {5, 5, 0, true}}, "expects position 4");
  expect_error({{4, 3, 0, true}, {5, 0, 0, true}}, "expects position 4");  // 0 only restarts at the start
  expect_error({{4, 3, 2, true}}, "sequence id 2");
  expect_error({{4, 3, -1, true}}, "sequence id -1");
  std::vector<BatchEntry> too_long;
  for (int i = 0; i < 70; ++i) too_long.push_back({1, 3 + i, 0, false});
  expect_error(too_long, "larger than the context");
  std::vector<BatchEntry> past_end;
  for (int i = 0; i < 30; ++i) past_end.push_back({1, 3 + i, 0, false});
  expect_error(past_end, "beyond the context size");
  expect_error({}, "empty batch");
}

INSTANTIATE_TEST_SUITE_P(Archs, PerArch, ::testing::Values("qwen35", "qwen35moe", "qwen3next"));

TEST(ModelLoad, UnsupportedArchitectureIsAClearError) {
  gen::GenOptions o;
  o.arch = "qwen35";
  auto plan = gen::plan_model(o);
  for (auto& kv : plan.metadata)
    if (kv.key == "general.architecture") kv.value = GgufValue::str("llama");
  GgufWriter w;
  gen::fill_writer(plan, 1, w);
  const std::string path = test::temp_path("llama-arch.gguf");
  w.write(path);
  try {
    Model::load(path);
    FAIL() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported architecture 'llama'"), std::string::npos) << e.what();
  }
}

TEST(ModelLoad, MissingAndMisshapenTensorsAreAllReported) {
  gen::GenOptions o;
  o.arch = "qwen35";
  auto plan = gen::plan_model(o);
  std::vector<gen::TensorPlan> kept;
  for (auto& t : plan.tensors) {
    if (t.name == "blk.0.ssm_a" || t.name == "blk.3.attn_k.weight") continue;  // drop two
    if (t.name == "blk.1.ssm_out.weight") t.ne = {t.ne[0], t.ne[1] / 2};     // wrong shape
    kept.push_back(t);
  }
  plan.tensors = kept;
  GgufWriter w;
  gen::fill_writer(plan, 1, w);
  const std::string path = test::temp_path("broken-tensors.gguf");
  w.write(path);
  try {
    Model::load(path);
    FAIL() << "loaded";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("3 tensor problems"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing tensor blk.0.ssm_a"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing tensor blk.3.attn_k.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tensor blk.1.ssm_out.weight has shape"), std::string::npos) << msg;
  }
}

TEST(ModelLoad, MissingRequiredKeyIsNamed) {
  gen::GenOptions o;
  o.arch = "qwen3next";
  auto plan = gen::plan_model(o);
  std::vector<GgufKV> kept;
  for (auto& kv : plan.metadata)
    if (kv.key != "qwen3next.ssm.group_count") kept.push_back(kv);
  plan.metadata = kept;
  GgufWriter w;
  gen::fill_writer(plan, 1, w);
  const std::string path = test::temp_path("no-group-count.gguf");
  w.write(path);
  try {
    Model::load(path);
    FAIL() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("qwen3next.ssm.group_count"), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {

TEST(ModelLoad, UnsupportedTensorTypeIsNamed) {
  gen::GenOptions o;
  o.arch = "qwen35";
  o.dtype = GgmlType::Q8_0;
  auto plan = gen::plan_model(o);
  GgufWriter w;
  gen::fill_writer(plan, 1, w);
  std::vector<uint8_t> bytes = w.to_bytes();
  // Retype blk.0.ssm_out.weight from Q8_0 (8) to TQ2_0 (35), a known type
  // without kernels; its data then needs fewer bytes, so the file stays valid.
  const std::string name = "blk.0.ssm_out.weight";
  auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(it, bytes.end());
  size_t p = size_t(it - bytes.begin()) + name.size();
  uint32_t n_dims;
  std::memcpy(&n_dims, &bytes[p], 4);
  p += 4 + 8 * n_dims;
  uint32_t type;
  std::memcpy(&type, &bytes[p], 4);
  ASSERT_EQ(type, 8u);
  type = 35;
  std::memcpy(&bytes[p], &type, 4);
  const std::string path = test::temp_path("tq2_0-tensor.gguf");
  test::write_file(path, std::string(bytes.begin(), bytes.end()));
  try {
    Model::load(path);
    FAIL() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.ssm_out.weight: type TQ2_0 (35) is not supported yet"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
