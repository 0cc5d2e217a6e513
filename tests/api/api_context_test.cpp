// The C API over a generated tiny model: results equal the engine's own
// classes (the oracle here), threads sharing one model agree with one
// thread, snapshots continue bit for bit (memory and file, other sequence and
// other context), the abort callback stops a long prompt and leaves the
// context usable.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "api/api_internal.h"
#include "deltallm.h"
#include "support/test_support.h"
#include "support/tiny_models.h"
#include "text/chat_template.h"

namespace dllm {
namespace {

#define ASSERT_OK(expr) ASSERT_EQ((expr), DELTALLM_OK) << deltallm_last_error()
#define EXPECT_OK(expr) EXPECT_EQ((expr), DELTALLM_OK) << deltallm_last_error()

struct ModelHandle {
  deltallm_model* m = nullptr;
  explicit ModelHandle(const std::string& path) {
    EXPECT_EQ(deltallm_model_load(path.c_str(), nullptr, &m), DELTALLM_OK) << deltallm_last_error();
  }
  ~ModelHandle() { deltallm_model_free(m); }
};

struct CtxHandle {
  deltallm_context* c = nullptr;
  CtxHandle(const deltallm_model* m, deltallm_context_params p) {
    EXPECT_EQ(deltallm_context_create(m, &p, &c), DELTALLM_OK) << deltallm_last_error();
  }
  ~CtxHandle() { deltallm_context_free(c); }
};

deltallm_context_params params(int n_seq = 1, int n_batch = 64, int n_threads = 1) {
  deltallm_context_params p = deltallm_context_default_params();
  p.n_ctx = 256;
  p.n_seq = n_seq;
  p.n_batch = n_batch;
  p.n_threads = n_threads;
  return p;
}

std::vector<int32_t> prompt_ids(int n, uint32_t seed = 1) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(int32_t((seed * 7919u + uint32_t(i) * 104729u) % 300u));
  return v;
}

int32_t n_vocab(const deltallm_model* m) {
  deltallm_model_info info;
  info.size = sizeof info;
  EXPECT_EQ(deltallm_model_get_info(m, &info), DELTALLM_OK);
  return info.n_vocab;
}

// Decodes tokens into seq (continuing it), logits for the last one.
deltallm_status decode(deltallm_context* c, const std::vector<int32_t>& toks, int32_t seq = 0) {
  std::vector<int32_t> seqs(toks.size(), seq);
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = int32_t(toks.size());
  b.tokens = toks.data();
  b.seq_ids = seqs.data();
  return deltallm_decode(c, &b);
}

std::vector<float> last_logits(deltallm_context* c, int32_t V) {
  const float* l = nullptr;
  EXPECT_EQ(deltallm_get_logits(c, -1, &l), DELTALLM_OK) << deltallm_last_error();
  return l ? std::vector<float>(l, l + V) : std::vector<float>();
}

// Prompt, then n greedy steps; every logits row produced, in order.
std::vector<std::vector<float>> greedy_run(const deltallm_model* m, const std::vector<int32_t>& prompt, int n) {
  const int32_t V = n_vocab(m);
  CtxHandle c(m, params());
  deltallm_sampler* s = nullptr;
  deltallm_sampler_params sp = deltallm_sampler_default_params();
  sp.temp = 0;
  EXPECT_EQ(deltallm_sampler_create(m, &sp, &s), DELTALLM_OK);
  std::vector<std::vector<float>> rows;
  EXPECT_EQ(decode(c.c, prompt), DELTALLM_OK);
  for (int i = 0; i < n; ++i) {
    rows.push_back(last_logits(c.c, V));
    int32_t tok = -1;
    EXPECT_EQ(deltallm_sampler_sample(s, c.c, -1, &tok), DELTALLM_OK);
    EXPECT_EQ(decode(c.c, {tok}), DELTALLM_OK);
  }
  rows.push_back(last_logits(c.c, V));
  deltallm_sampler_free(s);
  return rows;
}

TEST(CApi, DecodeMatchesTheEngine) {
  const std::string path = test::tiny_model("qwen35");
  ModelHandle mh(path);
  ASSERT_NE(mh.m, nullptr);
  const int32_t V = n_vocab(mh.m);
  // Engine directly.
  auto model = Model::load(path);
  ContextParams cp;
  cp.n_ctx = 256;
  cp.n_seq = 2;
  cp.n_batch = 64;
  cp.n_threads = 1;
  Context ref(*model, cp);
  const auto p0 = prompt_ids(9, 1), p1 = prompt_ids(5, 2);
  std::vector<BatchEntry> be;
  for (size_t i = 0; i < p0.size(); ++i) be.push_back({p0[i], int64_t(i), 0, true});
  for (size_t i = 0; i < p1.size(); ++i) be.push_back({p1[i], int64_t(i), 1, i + 1 == p1.size()});
  ASSERT_TRUE(ref.decode(be));

  // The same mixed batch through the API, positions left to the library.
  CtxHandle c(mh.m, params(2));
  std::vector<int32_t> toks, seqs;
  std::vector<int8_t> want;
  for (const BatchEntry& e : be) {
    toks.push_back(e.token);
    seqs.push_back(e.seq);
    want.push_back(e.logits);
  }
  deltallm_batch b = deltallm_batch_default_params();
  b.n_tokens = int32_t(toks.size());
  b.tokens = toks.data();
  b.seq_ids = seqs.data();
  b.logits = want.data();
  ASSERT_OK(deltallm_decode(c.c, &b));
  int32_t n = 0;
  ASSERT_OK(deltallm_get_n_logits(c.c, &n));
  ASSERT_EQ(n, ref.n_logits());
  for (int i = 0; i < n; ++i) {
    const float* l = nullptr;
    ASSERT_OK(deltallm_get_logits(c.c, i, &l));
    ASSERT_EQ(std::memcmp(l, ref.logits(i), size_t(V) * sizeof(float)), 0) << "row " << i;
  }
  int64_t len = 0;
  ASSERT_OK(deltallm_seq_length(c.c, 1, &len));
  EXPECT_EQ(len, int64_t(p1.size()));
}

TEST(CApi, TwoThreadsSharingOneModelAgreeWithOneThread) {
  ModelHandle mh(test::tiny_model("qwen35moe"));
  ASSERT_NE(mh.m, nullptr);
  const auto pa = prompt_ids(23, 3), pb = prompt_ids(17, 4);
  const auto ra = greedy_run(mh.m, pa, 6), rb = greedy_run(mh.m, pb, 6);
  std::vector<std::vector<float>> ta, tb;
  std::thread t1([&] { ta = greedy_run(mh.m, pa, 6); });
  std::thread t2([&] { tb = greedy_run(mh.m, pb, 6); });
  t1.join();
  t2.join();
  ASSERT_EQ(ta.size(), ra.size());
  ASSERT_EQ(tb.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ta[i], ra[i]) << "thread 1, step " << i;
    EXPECT_EQ(tb[i], rb[i]) << "thread 2, step " << i;
  }
}

TEST(CApi, SnapshotRestoredIntoAnotherSequenceContinuesExactly) {
  ModelHandle mh(test::tiny_model("qwen35"));
  ASSERT_NE(mh.m, nullptr);
  const int32_t V = n_vocab(mh.m);
  CtxHandle c(mh.m, params(3));
  ASSERT_OK(decode(c.c, prompt_ids(30, 5), 0));
  size_t size = 0, len = 0;
  ASSERT_OK(deltallm_seq_state_size(c.c, 0, &size));
  EXPECT_EQ(deltallm_seq_state_save(c.c, 0, nullptr, 0, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, size);
  std::vector<uint8_t> snap(size);
  ASSERT_OK(deltallm_seq_state_save(c.c, 0, snap.data(), snap.size(), &len));
  ASSERT_EQ(len, size);
  ASSERT_OK(deltallm_seq_state_load(c.c, 2, snap.data(), snap.size()));
  int64_t l2 = 0;
  ASSERT_OK(deltallm_seq_length(c.c, 2, &l2));
  EXPECT_EQ(l2, 30);
  const std::string file = test::temp_path("seq0.state");
  ASSERT_OK(deltallm_seq_state_save_file(c.c, 0, file.c_str()));

  // Original and restored continue with the same tokens: identical logits.
  const std::vector<int32_t> next = {11, 200, 37, 5};
  std::vector<std::vector<float>> orig, copy;
  for (int32_t t : next) {
    ASSERT_OK(decode(c.c, {t}, 0));
    orig.push_back(last_logits(c.c, V));
    ASSERT_OK(decode(c.c, {t}, 2));
    copy.push_back(last_logits(c.c, V));
  }
  for (size_t i = 0; i < next.size(); ++i) EXPECT_EQ(orig[i], copy[i]) << "step " << i;
  // Sanity: a sequence that did not see the prompt differs.
  ASSERT_OK(decode(c.c, {next[0]}, 1));
  EXPECT_NE(last_logits(c.c, V), orig[0]);

  // Through a file into a new context (one sequence, another n_batch).
  deltallm_context_params p2 = params(1, 16);
  CtxHandle c2(mh.m, p2);
  ASSERT_OK(deltallm_seq_state_load_file(c2.c, 0, file.c_str()));
  for (size_t i = 0; i < next.size(); ++i) {
    ASSERT_OK(decode(c2.c, {next[i]}, 0));
    EXPECT_EQ(last_logits(c2.c, V), orig[i]) << "file, step " << i;
  }

  // Bad snapshots change nothing and say why.
  int64_t before = 0;
  ASSERT_OK(deltallm_seq_length(c2.c, 0, &before));
  std::vector<uint8_t> bad = snap;
  bad[0] ^= 1;
  EXPECT_EQ(deltallm_seq_state_load(c2.c, 0, bad.data(), bad.size()), DELTALLM_ERR_FORMAT);
  EXPECT_EQ(deltallm_seq_state_load(c2.c, 0, snap.data(), snap.size() - 1), DELTALLM_ERR_FORMAT);
  EXPECT_EQ(deltallm_seq_state_load(c2.c, 1, snap.data(), snap.size()), DELTALLM_ERR_INVALID_ARGUMENT);
  int64_t after = 0;
  ASSERT_OK(deltallm_seq_length(c2.c, 0, &after));
  EXPECT_EQ(after, before);
  // Another KV type.
  deltallm_context_params pf = params();
  pf.kv_type = DELTALLM_KV_F32;
  CtxHandle cf(mh.m, pf);
  EXPECT_EQ(deltallm_seq_state_load(cf.c, 0, snap.data(), snap.size()), DELTALLM_ERR_FORMAT);
  EXPECT_NE(std::string(deltallm_last_error()).find("KV"), std::string::npos) << deltallm_last_error();
  // A context too short for it.
  deltallm_context_params ps = params();
  ps.n_ctx = 16;
  CtxHandle cs(mh.m, ps);
  EXPECT_EQ(deltallm_seq_state_load(cs.c, 0, snap.data(), snap.size()), DELTALLM_ERR_FORMAT);
  // Another model (same shapes, other weights).
  ModelHandle other(test::tiny_model("qwen35", 2));
  CtxHandle co(other.m, params());
  EXPECT_EQ(deltallm_seq_state_load(co.c, 0, snap.data(), snap.size()), DELTALLM_ERR_FORMAT);
  EXPECT_NE(std::string(deltallm_last_error()).find("another model"), std::string::npos);
  // Missing file.
  EXPECT_EQ(deltallm_seq_state_load_file(c2.c, 0, test::temp_path("nope.state").c_str()), DELTALLM_ERR_IO);
  EXPECT_EQ(deltallm_seq_state_save_file(c2.c, 0, "/nonexistent-dir/x.state"), DELTALLM_ERR_IO);
}

// Prompt-cache checkpoints: taken at two lengths of a prompt, restored after
// the sequence moved on (and into another sequence holding the same tokens),
// decoding continues exactly as a fresh evaluation of the same tokens in the
// same batches would; bad checkpoints change nothing.
TEST(CApi, CheckpointRestoreTruncatesAndContinuesExactly) {
  for (const char* arch : {"qwen35", "qwen3next"}) {
    SCOPED_TRACE(arch);
    ModelHandle mh(test::tiny_model(arch));
    ASSERT_NE(mh.m, nullptr);
    const int32_t V = n_vocab(mh.m);
    CtxHandle c(mh.m, params(2));
    const std::vector<int32_t> p = prompt_ids(40, 9);
    const std::vector<int32_t> a(p.begin(), p.begin() + 24), b(p.begin() + 24, p.end());
    size_t size = 0, len = 0;
    ASSERT_OK(deltallm_seq_checkpoint_size(c.c, &size));
    EXPECT_EQ(deltallm_seq_checkpoint_save(c.c, 0, nullptr, 0, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
    EXPECT_EQ(len, size);
    std::vector<uint8_t> at24(size), at40(size);
    ASSERT_OK(decode(c.c, a, 0));
    ASSERT_OK(deltallm_seq_checkpoint_save(c.c, 0, at24.data(), at24.size(), &len));
    ASSERT_OK(decode(c.c, b, 0));
    ASSERT_OK(deltallm_seq_checkpoint_save(c.c, 0, at40.data(), at40.size(), &len));
    int64_t l = 0;
    ASSERT_OK(deltallm_seq_checkpoint_length(at24.data(), at24.size(), &l));
    EXPECT_EQ(l, 24);
    // Move on with other tokens, then go back to 24 and take the b branch again.
    ASSERT_OK(decode(c.c, {5, 6, 7}, 0));
    ASSERT_OK(deltallm_seq_checkpoint_restore(c.c, 0, at24.data(), at24.size()));
    ASSERT_OK(deltallm_seq_length(c.c, 0, &l));
    EXPECT_EQ(l, 24);
    ASSERT_OK(decode(c.c, b, 0));
    const std::vector<float> again = last_logits(c.c, V);
    // Fresh: the same tokens in the same batches in a new context.
    CtxHandle f(mh.m, params(1));
    ASSERT_OK(decode(f.c, a, 0));
    ASSERT_OK(decode(f.c, b, 0));
    EXPECT_EQ(again, last_logits(f.c, V));
    // Back to 40 from a longer sequence, then one more token each.
    ASSERT_OK(decode(c.c, {8, 9}, 0));
    ASSERT_OK(deltallm_seq_checkpoint_restore(c.c, 0, at40.data(), at40.size()));
    ASSERT_OK(decode(c.c, {77}, 0));
    ASSERT_OK(decode(f.c, {77}, 0));
    EXPECT_EQ(last_logits(c.c, V), last_logits(f.c, V));
    // Errors change nothing: a sequence too short, bad bytes, another model.
    ASSERT_OK(decode(c.c, {1, 2, 3}, 1));
    EXPECT_EQ(deltallm_seq_checkpoint_restore(c.c, 1, at24.data(), at24.size()), DELTALLM_ERR_INVALID_ARGUMENT);
    ASSERT_OK(deltallm_seq_length(c.c, 1, &l));
    EXPECT_EQ(l, 3);
    std::vector<uint8_t> bad = at24;
    bad[0] ^= 1;
    EXPECT_EQ(deltallm_seq_checkpoint_restore(c.c, 0, bad.data(), bad.size()), DELTALLM_ERR_FORMAT);
    EXPECT_EQ(deltallm_seq_checkpoint_length(bad.data(), bad.size(), &l), DELTALLM_ERR_FORMAT);
    EXPECT_EQ(deltallm_seq_checkpoint_restore(c.c, 0, at24.data(), at24.size() - 1), DELTALLM_ERR_FORMAT);
    EXPECT_EQ(deltallm_seq_checkpoint_restore(c.c, 2, at24.data(), at24.size()), DELTALLM_ERR_INVALID_ARGUMENT);
    ASSERT_OK(deltallm_seq_length(c.c, 0, &l));
    EXPECT_EQ(l, 41);
    ModelHandle other(test::tiny_model(arch, 2));
    CtxHandle co(other.m, params());
    ASSERT_OK(decode(co.c, a, 0));
    EXPECT_EQ(deltallm_seq_checkpoint_restore(co.c, 0, at24.data(), at24.size()), DELTALLM_ERR_FORMAT);
    EXPECT_NE(std::string(deltallm_last_error()).find("another model"), std::string::npos);
  }
}

struct AbortCounter {
  int calls = 0;
  int abort_at = 0;  // abort on this call (1-based); 0 = never
};
bool abort_cb(void* ud) {
  auto* a = static_cast<AbortCounter*>(ud);
  return ++a->calls == a->abort_at;
}

TEST(CApi, AbortStopsALongPromptAndLeavesTheContextUsable) {
  ModelHandle mh(test::tiny_model("qwen35"));
  ASSERT_NE(mh.m, nullptr);
  const int32_t V = n_vocab(mh.m);
  const auto prompt = prompt_ids(64, 9);
  // Reference: the whole prompt in micro-batches of 8, counting the checks.
  AbortCounter count;
  deltallm_context_params p = params(1, 8);
  p.abort_callback = abort_cb;
  p.abort_user_data = &count;
  CtxHandle ref(mh.m, p);
  ASSERT_OK(decode(ref.c, prompt));
  const auto want = last_logits(ref.c, V);
  const int total = count.calls;
  ASSERT_GE(total, 8) << "at least one check per micro-batch";

  for (int abort_at : {1, 2, total / 2, total / 2 + 1, total}) {
    AbortCounter ac;
    ac.abort_at = abort_at;
    p.abort_user_data = &ac;
    CtxHandle c(mh.m, p);
    EXPECT_EQ(decode(c.c, prompt), DELTALLM_ERR_ABORTED) << "abort at check " << abort_at;
    EXPECT_EQ(ac.calls, abort_at);  // stopped right there
    const float* l = nullptr;
    EXPECT_EQ(deltallm_get_logits(c.c, -1, &l), DELTALLM_ERR_INVALID_ARGUMENT);
    // Completed micro-batches stay; an interrupted one empties its sequence.
    int64_t len = -1;
    ASSERT_OK(deltallm_seq_length(c.c, 0, &len));
    EXPECT_TRUE(len % 8 == 0 && len < 64) << len;
    // Continue from there: the same logits as the uninterrupted run.
    ac.abort_at = 0;
    ASSERT_OK(decode(c.c, std::vector<int32_t>(prompt.begin() + len, prompt.end())));
    EXPECT_EQ(last_logits(c.c, V), want) << "abort at check " << abort_at;
  }

  // One long micro-batch is stopped too (checks between layers), and the
  // context restarts cleanly after the callback is removed.
  AbortCounter ac;
  ac.abort_at = 2;
  deltallm_context_params one = params(1, 64);
  one.abort_callback = abort_cb;
  one.abort_user_data = &ac;
  CtxHandle c(mh.m, one);
  EXPECT_EQ(decode(c.c, prompt), DELTALLM_ERR_ABORTED);
  int64_t len = -1;
  ASSERT_OK(deltallm_seq_length(c.c, 0, &len));
  EXPECT_EQ(len, 0);
  ASSERT_OK(deltallm_context_set_abort_callback(c.c, nullptr, nullptr));
  ASSERT_OK(decode(c.c, prompt));
  CtxHandle ref64(mh.m, params(1, 64));
  ASSERT_OK(decode(ref64.c, prompt));
  EXPECT_EQ(last_logits(c.c, V), last_logits(ref64.c, V));
}

TEST(CApi, MemoryNeededMatchesTheContext) {
  ModelHandle mh(test::tiny_model("qwen35"));
  ASSERT_NE(mh.m, nullptr);
  for (deltallm_kv_type kv : {DELTALLM_KV_F16, DELTALLM_KV_F32}) {
    deltallm_context_params p = params(3, 32, 1);
    p.kv_type = kv;
    deltallm_memory_info need;
    need.size = sizeof need;
    ASSERT_OK(deltallm_model_memory_needed(mh.m, &p, &need));
    CtxHandle c(mh.m, p);
    deltallm_memory_info have;
    have.size = sizeof have;
    ASSERT_OK(deltallm_context_get_memory(c.c, &have));
    EXPECT_EQ(need.total, have.total);
    // The engine's own count of per-sequence state.
    EXPECT_EQ(need.state_per_seq, c.c->ctx->state_bytes_per_seq());
    EXPECT_EQ(need.kv_cache + need.recurrent_state, 3 * c.c->ctx->state_bytes_per_seq());
    EXPECT_GT(need.workspace, 0u);
    EXPECT_EQ(need.total, need.kv_cache + need.recurrent_state + need.workspace);
    // A snapshot's size: header + the engine's own state for the length.
    ASSERT_OK(decode(c.c, prompt_ids(10), 1));
    size_t size = 0;
    ASSERT_OK(deltallm_seq_state_size(c.c, 1, &size));
    EXPECT_EQ(size, 32 + c.c->ctx->seq_state(1).size());
  }
}

TEST(CApi, TokenizerCallsMatchTheTokenizer) {
  const std::string path = test::tiny_model("qwen35");
  ModelHandle mh(path);
  ASSERT_NE(mh.m, nullptr);
  auto f = GgufFile::open(path);
  auto tok = Tokenizer::from_gguf(*f);
  const std::string text = "<|im_start|>user\nHello world, the café is 42 metres away.<|im_end|>\n";
  for (uint32_t flags : {0u, 2u, 3u}) {
    size_t n = 0;
    ASSERT_EQ(deltallm_tokenize(mh.m, text.data(), text.size(), flags, nullptr, 0, &n), DELTALLM_ERR_BUFFER_TOO_SMALL);
    std::vector<int32_t> ids(n);
    ASSERT_OK(deltallm_tokenize(mh.m, text.data(), text.size(), flags, ids.data(), ids.size(), &n));
    const auto want = (flags & 1) ? tok->encode_prompt(text, flags & 2) : tok->encode(text, flags & 2);
    EXPECT_EQ(ids, want) << "flags " << flags;
    // Whole detokenization and the streamed pieces agree.
    size_t len = 0;
    EXPECT_EQ(deltallm_detokenize(mh.m, ids.data(), ids.size(), 1, nullptr, 0, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
    std::string whole(len + 1, '\0');
    ASSERT_OK(deltallm_detokenize(mh.m, ids.data(), ids.size(), 1, whole.data(), whole.size(), &len));
    whole.resize(len);
    EXPECT_EQ(whole, tok->decode(ids, true));
    deltallm_detokenizer* dt = nullptr;
    ASSERT_OK(deltallm_detokenizer_create(mh.m, DELTALLM_DETOKENIZE_RENDER_SPECIAL, &dt));
    std::string streamed;
    for (int32_t id : ids) {
      const char* t = nullptr;
      size_t tl = 0;
      ASSERT_OK(deltallm_detokenizer_push(dt, id, &t, &tl));
      streamed.append(t, tl);
    }
    const char* t = nullptr;
    size_t tl = 0;
    ASSERT_OK(deltallm_detokenizer_flush(dt, &t, &tl));
    streamed.append(t, tl);
    deltallm_detokenizer_free(dt);
    EXPECT_EQ(streamed, whole);
  }
  // Invalid UTF-8 is an error naming the problem.
  const char bad[] = "ab\xff";
  size_t n = 0;
  EXPECT_EQ(deltallm_tokenize(mh.m, bad, 3, 0, nullptr, 0, &n), DELTALLM_ERR_INVALID_ARGUMENT);
  EXPECT_STRNE(deltallm_last_error(), "");
}

TEST(CApi, ChatTemplateMatchesTheEngine) {
  const std::string path = test::tiny_model("qwen35");
  ModelHandle mh(path);
  ASSERT_NE(mh.m, nullptr);
  const char* src = nullptr;
  ASSERT_OK(deltallm_model_chat_template(mh.m, nullptr, &src));
  deltallm_chat_message msgs[] = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello"}, {"user", "Bye"}};
  for (bool gen : {true, false}) {
    deltallm_chat_params p = deltallm_chat_default_params();
    p.add_generation_prompt = gen;
    size_t len = 0;
    ASSERT_EQ(deltallm_chat_apply_template(mh.m, msgs, 4, &p, nullptr, 0, &len), DELTALLM_ERR_BUFFER_TOO_SMALL);
    std::string out(len + 1, '\0');
    ASSERT_OK(deltallm_chat_apply_template(mh.m, msgs, 4, &p, out.data(), out.size(), &len));
    out.resize(len);
    ChatTemplateInput in;
    in.messages = nlohmann::ordered_json::parse(
        R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},)"
        R"({"role":"assistant","content":"Hello"},{"role":"user","content":"Bye"}])");
    in.add_generation_prompt = gen;
    auto f = GgufFile::open(path);
    auto tok = Tokenizer::from_gguf(*f);
    in.bos_token = tok->token_text(tok->bos());
    in.eos_token = tok->token_text(tok->eos());
    EXPECT_EQ(out, ChatTemplate(src).apply(in));
    EXPECT_NE(out.find("<|im_start|>user\nBye"), std::string::npos) << out;
  }
  // A template of our own, and one that raises.
  deltallm_chat_params p = deltallm_chat_default_params();
  p.template_text = "{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}";
  char buf[64];
  size_t len = 0;
  ASSERT_OK(deltallm_chat_apply_template(mh.m, msgs, 2, &p, buf, sizeof buf, &len));
  EXPECT_STREQ(buf, "[system:Be brief.][user:Hi]");
  ASSERT_OK(deltallm_chat_apply_template_json(mh.m, R"([{"role":"user","content":null}])", &p, buf, sizeof buf, &len));
  EXPECT_STREQ(buf, "[user:None]");
  p.template_text = "{{ raise_exception('no way') }}";
  EXPECT_EQ(deltallm_chat_apply_template(mh.m, msgs, 2, &p, buf, sizeof buf, &len), DELTALLM_ERR_FORMAT);
  EXPECT_NE(std::string(deltallm_last_error()).find("no way"), std::string::npos) << deltallm_last_error();
  EXPECT_EQ(deltallm_chat_apply_template_json(mh.m, "[{", nullptr, buf, sizeof buf, &len),
            DELTALLM_ERR_INVALID_ARGUMENT);
}

TEST(CApi, SamplerNeverPicksUnusedTokensAndIsReproducible) {
  ModelHandle mh(test::tiny_model("qwen35"));
  ASSERT_NE(mh.m, nullptr);
  const int32_t V = n_vocab(mh.m);
  // Logits that favour the UNUSED padding tokens at the end of the vocabulary.
  std::vector<float> l(size_t(V), 0.0f);
  int32_t unused = -1;
  for (int32_t i = V - 1; i >= 0 && unused < 0; --i) {
    deltallm_token_type t;
    ASSERT_OK(deltallm_token_get_type(mh.m, i, &t));
    if (t == DELTALLM_TOKEN_UNUSED) unused = i;
  }
  ASSERT_GE(unused, 0) << "the tiny model has no UNUSED tokens";
  l[size_t(unused)] = 100.0f;
  l[5] = 1.0f;
  deltallm_sampler_params sp = deltallm_sampler_default_params();
  sp.temp = 0;
  deltallm_sampler* g = nullptr;
  ASSERT_OK(deltallm_sampler_create(mh.m, &sp, &g));
  int32_t tok = -1;
  ASSERT_OK(deltallm_sampler_sample_logits(g, l.data(), l.size(), &tok));
  EXPECT_EQ(tok, 5);
  deltallm_sampler_free(g);
  // Same seed, same tokens; reset replays.
  sp = deltallm_sampler_default_params();
  sp.seed = 1234;
  sp.top_k = 0;
  sp.min_p = 0;
  std::vector<float> flat(size_t(V), 0.0f);
  deltallm_sampler *a = nullptr, *b = nullptr;
  ASSERT_OK(deltallm_sampler_create(mh.m, &sp, &a));
  ASSERT_OK(deltallm_sampler_create(mh.m, &sp, &b));
  std::vector<int32_t> ra, rb;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(deltallm_sampler_sample_logits(a, flat.data(), flat.size(), &tok));
    ra.push_back(tok);
    deltallm_token_type t;
    ASSERT_OK(deltallm_token_get_type(mh.m, tok, &t));
    EXPECT_NE(t, DELTALLM_TOKEN_UNUSED);
    ASSERT_OK(deltallm_sampler_sample_logits(b, flat.data(), flat.size(), &tok));
    rb.push_back(tok);
  }
  EXPECT_EQ(ra, rb);
  ASSERT_OK(deltallm_sampler_reset(a));
  std::vector<int32_t> again;
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(deltallm_sampler_sample_logits(a, flat.data(), flat.size(), &tok));
    again.push_back(tok);
  }
  EXPECT_EQ(again, ra);
  deltallm_sampler_free(a);
  deltallm_sampler_free(b);
}

}  // namespace
}  // namespace dllm
