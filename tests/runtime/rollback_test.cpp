// Per-step checkpoints and seq_rollback (speculative decoding): after a batch
// of drafts, rolling back to keep any number of them and continuing gives the
// logits of a context that only ever saw the kept tokens, bit for bit, for
// every architecture; sequences sharing a batch, micro-batch splits, copies
// and restores keep the checkpoint bookkeeping right; impossible rollbacks
// are refused without changing anything.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "model/model.h"
#include "runtime/context.h"
#include "support/tiny_models.h"
#include "util/error.h"

using namespace dllm;

namespace {

ContextParams params(int n_rollback, int n_seq = 1, int n_batch = 64) {
  ContextParams p;
  p.n_ctx = 128;
  p.n_seq = n_seq;
  p.n_batch = n_batch;
  p.n_threads = 2;
  p.n_rollback = n_rollback;
  return p;
}

std::vector<BatchEntry> run_of(const std::vector<int32_t>& toks, int64_t pos0, int seq = 0) {
  std::vector<BatchEntry> b;
  for (size_t i = 0; i < toks.size(); ++i) b.push_back({toks[i], pos0 + int64_t(i), seq, i + 1 == toks.size()});
  return b;
}

// Logits of the last token after decoding `toks` from scratch, in batches of the given sizes.
std::vector<float> straight(const Model& m, const std::vector<int32_t>& toks, const std::vector<int>& cuts) {
  Context c(m, params(0));
  size_t at = 0;
  for (int n : cuts) {
    std::vector<int32_t> part(toks.begin() + at, toks.begin() + at + n);
    EXPECT_TRUE(c.decode(run_of(part, int64_t(at))));
    at += size_t(n);
  }
  EXPECT_EQ(at, toks.size());
  const int64_t V = m.hparams().n_vocab;
  return std::vector<float>(c.logits(c.n_logits() - 1), c.logits(c.n_logits() - 1) + V);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

class Rollback : public ::testing::TestWithParam<std::string> {};

TEST_P(Rollback, KeepingAnyNumberOfDraftsEqualsNeverHavingThem) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  const std::vector<int32_t> prompt = {5, 9, 14, 3, 77, 120, 8}, drafts = {40, 41, 42, 43, 44};
  for (int keep = 1; keep <= 5; ++keep) {
    Context c(*model, params(5));
    ASSERT_TRUE(c.decode(run_of(prompt, 0)));
    ASSERT_TRUE(c.decode(run_of(drafts, 7)));
    c.seq_rollback(0, 7 + keep);
    EXPECT_EQ(c.seq_len(0), 7 + keep);
    ASSERT_TRUE(c.decode(run_of({99}, 7 + keep)));
    std::vector<int32_t> kept = prompt;
    kept.insert(kept.end(), drafts.begin(), drafts.begin() + keep);
    kept.push_back(99);
    const std::vector<float> want = straight(*model, kept, {7, keep, 1});
    EXPECT_EQ(0, std::memcmp(c.logits(0), want.data(), size_t(V) * sizeof(float))) << GetParam() << " keep=" << keep;
  }
}

// A speculative loop: each round decodes 1 + k tokens, keeps a random number
// of them, and goes on; the end state equals a plain decode of what was kept.
TEST_P(Rollback, SpeculativeLoopEqualsPlainDecode) {
  auto model = Model::load(test::tiny_model(GetParam()));
  const int64_t V = model->hparams().n_vocab;
  std::mt19937 rng(3);
  Context c(*model, params(4, 2));
  std::vector<int32_t> kept = {1, 2, 3};
  std::vector<int> cuts = {3};
  ASSERT_TRUE(c.decode(run_of(kept, 0, 1)));  // in sequence 1, to check the seq id plumbing
  for (int round = 0; round < 6; ++round) {
    std::vector<int32_t> batch;
    for (int i = 0; i < 4; ++i) batch.push_back(int32_t(rng() % 200));
    const int64_t len = c.seq_len(1);
    ASSERT_TRUE(c.decode(run_of(batch, len, 1)));
    const int keep = 1 + int(rng() % 4);
    c.seq_rollback(1, len + keep);
    kept.insert(kept.end(), batch.begin(), batch.begin() + keep);
    cuts.push_back(keep);
  }
  ASSERT_TRUE(c.decode(run_of({7}, c.seq_len(1), 1)));
  kept.push_back(7);
  cuts.push_back(1);
  const std::vector<float> want = straight(*model, kept, cuts);
  EXPECT_EQ(0, std::memcmp(c.logits(0), want.data(), size_t(V) * sizeof(float))) << GetParam();
}

TEST_P(Rollback, SharedBatchesSplitsCopiesAndErrors) {
  auto model = Model::load(test::tiny_model(GetParam()));
  Context c(*model, params(3, 2, 4));
  // Two sequences in one batch, cut into micro-batches of 4: [seq 0 x 3,
  // seq 1 x 1] and [seq 1 x 4]. Seq 0 keeps checkpoints; seq 1's last part
  // has more than 3 tokens, so it keeps none.
  std::vector<BatchEntry> b = run_of({1, 2, 3}, 0, 0);
  for (const BatchEntry& e : run_of({4, 5, 6, 7, 8}, 0, 1)) b.push_back(e);
  ASSERT_TRUE(c.decode(b));
  EXPECT_EQ(c.rollback_range(0), std::make_pair(int64_t(1), int64_t(3)));
  EXPECT_GT(c.rollback_range(1).first, c.rollback_range(1).second);
  EXPECT_NE(error_of([&] { c.seq_rollback(1, 3); }).find("no checkpoints"), std::string::npos);
  EXPECT_EQ(c.seq_len(1), 5);
  c.seq_rollback(1, 0);  // always possible
  EXPECT_EQ(c.seq_len(1), 0);
  EXPECT_NE(error_of([&] { c.seq_rollback(0, 4); }).find("cannot keep 4"), std::string::npos);
  EXPECT_NE(error_of([&] { c.seq_rollback(0, -1); }).find("cannot keep -1"), std::string::npos);
  EXPECT_NE(error_of([&] { c.seq_rollback(2, 1); }).find("out of range"), std::string::npos);
  // Copies and restores carry no checkpoints; a rollback drops the later ones.
  c.seq_copy(0, 1);
  EXPECT_GT(c.rollback_range(1).first, c.rollback_range(1).second);
  c.seq_rollback(0, 2);
  EXPECT_EQ(c.rollback_range(0), std::make_pair(int64_t(1), int64_t(2)));
  c.seq_restore(0, c.seq_state(1));
  EXPECT_GT(c.rollback_range(0).first, c.rollback_range(0).second);
  // n_rollback is bounded by n_batch.
  EXPECT_NE(error_of([&] { Context bad(*model, params(5, 1, 4)); }).find("n_rollback"), std::string::npos);
  EXPECT_NE(error_of([&] { Context bad(*model, params(-1)); }).find("n_rollback"), std::string::npos);
  EXPECT_NE(c.memory_plan().find("checkpoints"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Archs, Rollback, ::testing::Values("qwen35", "qwen35moe", "qwen3next"));

}  // namespace
