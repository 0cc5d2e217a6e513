// `deltallm perplexity`: the PPL it prints against exp(mean NLL) computed here
// from logits read through the C API; --kl-divergence-base / --kl-divergence
// (a model against itself: KL 0 and 100% same top token; f32 against Q8_0 of
// the same weights: KL > 0); bad inputs (one error line, exit status 1).
#include <gtest/gtest.h>

#include <deltallm.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "support/cli_checks.h"
#include "support/test_support.h"
#include "support/tiny_models.h"

using dllm::test::run_deltallm;

namespace {

constexpr int kCtx = 32, kChunks = 3;

using dllm::test::expect_error;
using dllm::test::text_file;

std::string make_text(uint32_t seed, int n_words) { return dllm::test::make_word_text(seed, n_words); }

// The number after "<key> = " on stdout.
double value_of(const std::string& out, const std::string& key) {
  const size_t at = out.find(key + " = ");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no '" << key << " = ' in:\n" << out;
    return NAN;
  }
  return std::stod(out.substr(at + key.size() + 3));
}

// exp(mean NLL) as llama.cpp defines it, from the C API directly: each chunk
// from an empty sequence with every row's logits, rows c/2 .. c-2 scored.
double direct_ppl(const std::string& model_path, const std::string& text, int c, int n_chunks) {
  deltallm_model* m = nullptr;
  EXPECT_EQ(deltallm_model_load(model_path.c_str(), nullptr, &m), DELTALLM_OK) << deltallm_last_error();
  std::vector<int32_t> ids = dllm::test::tokens_of(m, text);
  const size_t n = ids.size();
  EXPECT_GE(n, size_t(c * n_chunks));
  deltallm_vocab_info vi{};
  vi.size = sizeof vi;
  EXPECT_EQ(deltallm_model_get_vocab_info(m, &vi), DELTALLM_OK);
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = c;
  cp.n_threads = 2;
  deltallm_context* ctx = nullptr;
  EXPECT_EQ(deltallm_context_create(m, &cp, &ctx), DELTALLM_OK) << deltallm_last_error();
  deltallm_context_info ci{};
  ci.size = sizeof ci;
  EXPECT_EQ(deltallm_context_get_info(ctx, &ci), DELTALLM_OK);
  const int V = ci.n_vocab;
  double sum = 0;
  long count = 0;
  for (int ch = 0; ch < n_chunks; ++ch) {
    std::vector<int32_t> toks(ids.begin() + ch * c, ids.begin() + (ch + 1) * c);
    if (vi.add_bos && vi.bos >= 0) toks[0] = vi.bos;
    std::vector<int8_t> all(size_t(c), 1);
    EXPECT_EQ(deltallm_seq_clear(ctx, 0), DELTALLM_OK);
    deltallm_batch b = deltallm_batch_default_params();
    b.n_tokens = c;
    b.tokens = toks.data();
    b.logits = all.data();
    EXPECT_EQ(deltallm_decode(ctx, &b), DELTALLM_OK) << deltallm_last_error();
    for (int p = c / 2; p <= c - 2; ++p) {
      const float* l = nullptr;
      EXPECT_EQ(deltallm_get_logits(ctx, p, &l), DELTALLM_OK);
      double mx = -INFINITY, s = 0;
      for (int j = 0; j < V; ++j) mx = std::max(mx, double(l[j]));
      for (int j = 0; j < V; ++j) s += std::exp(double(l[j]) - mx);
      sum += mx + std::log(s) - double(l[ids[size_t(ch * c + p + 1)]]);
      ++count;
    }
  }
  deltallm_context_free(ctx);
  deltallm_model_free(m);
  EXPECT_EQ(count, long(n_chunks * (c - 1 - c / 2)));
  return std::exp(sum / double(count));
}

std::string q8_model() {
  dllm::gen::GenOptions o;
  o.arch = "qwen35";
  o.preset = "tiny";
  o.seed = 1;
  o.dtype = dllm::GgmlType::Q8_0;
  return dllm::test::generated_model(o);
}

const std::string kText = make_text(7, 1500);

TEST(PerplexityCli, PplEqualsDirectComputation) {
  const std::string m = dllm::test::tiny_model("qwen35");
  const std::string f = text_file("ppl-text.txt", kText);
  auto r = run_deltallm({"perplexity", "-m", m, "-f", f, "-c", std::to_string(kCtx), "--chunks",
                         std::to_string(kChunks), "-t", "2", "-b", "8"});
  ASSERT_EQ(r.status, 0) << r.err;
  // stdout: the one result line
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(r.out.rfind("PPL = ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" +/- "), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[1]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[3]"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("[4]"), std::string::npos) << r.err;
  const double ppl = value_of(r.out, "PPL");
  const double want = direct_ppl(m, kText, kCtx, kChunks);
  EXPECT_NEAR(ppl / want, 1.0, 1e-4) << "printed " << ppl << ", direct " << want;
  const double err = std::stod(r.out.substr(r.out.find("+/- ") + 4));
  EXPECT_GT(err, 0.0);
  EXPECT_LT(err, ppl);
}

// The generated model with tokenizer.ggml.add_bos_token patched to true (the
// BOOL value byte right after the key and its 4-byte type).
std::string bos_model() {
  std::string bytes = dllm::test::read_file(dllm::test::tiny_model("qwen35"));
  const std::string key = "tokenizer.ggml.add_bos_token";
  const size_t at = bytes.find(key);
  EXPECT_NE(at, std::string::npos);
  EXPECT_EQ(bytes[at + key.size()], 7);  // GGUF type BOOL
  EXPECT_EQ(bytes[at + key.size() + 4], 0);
  bytes[at + key.size() + 4] = 1;
  const std::string p = dllm::test::temp_path("qwen35-tiny-add-bos.gguf");
  dllm::test::write_file(p, bytes);
  return p;
}

TEST(PerplexityCli, BosFirstWhenTheModelAddsBos) {
  const std::string m = bos_model(), plain = dllm::test::tiny_model("qwen35");
  const std::string f = text_file("bos-text.txt", kText);
  const std::vector<std::string> args = {"-f", f, "-c", std::to_string(kCtx), "--chunks", std::to_string(kChunks)};
  std::vector<std::string> a = {"perplexity", "-m", m};
  a.insert(a.end(), args.begin(), args.end());
  auto r = run_deltallm(a);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("BOS first"), std::string::npos) << r.err;
  const double ppl = value_of(r.out, "PPL");
  EXPECT_NEAR(ppl / direct_ppl(m, kText, kCtx, kChunks), 1.0, 1e-4);
  a[2] = plain;
  auto r2 = run_deltallm(a);
  ASSERT_EQ(r2.status, 0) << r2.err;
  EXPECT_EQ(r2.err.find("BOS first"), std::string::npos) << r2.err;
  EXPECT_NE(value_of(r2.out, "PPL"), ppl);  // other tokens, other contexts
}

// The test data's f32 and Q8_0 files of the same weights (skipped without ../shared/testdata).
TEST(PerplexityCli, KlDivergenceTestdataQ8) {
  std::string td;
  DLLM_REQUIRE_TESTDATA(td);
  const std::string f32 = td + "/qwen35-tiny-f32.gguf", q8 = td + "/qwen35-tiny-Q8_0.gguf";
  const std::string f = text_file("td-text.txt", kText);
  const std::string base = dllm::test::temp_path("td-base.bin");
  auto r0 = run_deltallm({"perplexity", "-m", f32, "-f", f, "-c", "64", "--chunks", "2", "--kl-divergence-base", base});
  ASSERT_EQ(r0.status, 0) << r0.err;
  auto r1 = run_deltallm({"perplexity", "-m", q8, "-f", f, "--kl-divergence", base});
  ASSERT_EQ(r1.status, 0) << r1.err;
  EXPECT_GT(value_of(r1.out, "Mean KLD"), 1e-9) << r1.out;
  EXPECT_LT(value_of(r1.out, "Mean KLD"), 0.1) << r1.out;
  EXPECT_GT(value_of(r1.out, "Same top token"), 50.0) << r1.out;
}

TEST(PerplexityCli, KlDivergence) {
  const std::string m = dllm::test::tiny_model("qwen35");
  const std::string f = text_file("kl-text.txt", kText);
  const std::string base = dllm::test::temp_path("kl-base.bin");
  auto r0 = run_deltallm({"perplexity", "-m", m, "-f", f, "-c", std::to_string(kCtx), "--chunks",
                          std::to_string(kChunks), "--kl-divergence-base", base});
  ASSERT_EQ(r0.status, 0) << r0.err;
  const size_t scored = kCtx - 1 - kCtx / 2;
  EXPECT_EQ(dllm::test::read_file(base).size(), 28 + 4 * size_t(kChunks * kCtx) + 4 * kChunks * scored * 1024);

  // The same model: KL 0 exactly, every top token the same, the same PPL.
  auto r1 = run_deltallm({"perplexity", "-m", m, "-f", f, "--kl-divergence", base});
  ASSERT_EQ(r1.status, 0) << r1.err;
  EXPECT_NEAR(value_of(r1.out, "Mean KLD"), 0.0, 1e-6) << r1.out;
  EXPECT_NEAR(value_of(r1.out, "Max KLD"), 0.0, 1e-6) << r1.out;
  EXPECT_DOUBLE_EQ(value_of(r1.out, "Same top token"), 100.0) << r1.out;
  EXPECT_DOUBLE_EQ(value_of(r1.out, "PPL"), value_of(r0.out, "PPL"));
  EXPECT_DOUBLE_EQ(value_of(r1.out, "PPL(base)"), value_of(r0.out, "PPL"));
  for (const char* key : {"99.0% KLD", "Median KLD"}) EXPECT_NEAR(value_of(r1.out, key), 0.0, 1e-6);

  // Q8_0 of the same weights: a small positive KL divergence.
  auto r2 = run_deltallm({"perplexity", "-m", q8_model(), "-f", f, "--kl-divergence", base, "-t", "2"});
  ASSERT_EQ(r2.status, 0) << r2.err;
  const double kl = value_of(r2.out, "Mean KLD");
  EXPECT_GT(kl, 1e-9) << r2.out;
  EXPECT_LT(kl, 1.0) << r2.out;
  EXPECT_GE(value_of(r2.out, "Max KLD"), value_of(r2.out, "99.0% KLD"));
  EXPECT_GE(value_of(r2.out, "99.0% KLD"), value_of(r2.out, "Median KLD"));
  EXPECT_DOUBLE_EQ(value_of(r2.out, "PPL(base)"), value_of(r0.out, "PPL"));
  EXPECT_NE(value_of(r2.out, "PPL"), value_of(r0.out, "PPL"));

  // --chunks reads a prefix of the base file.
  auto r3 = run_deltallm({"perplexity", "-m", m, "-f", f, "--kl-divergence", base, "--chunks", "1"});
  ASSERT_EQ(r3.status, 0) << r3.err;
  EXPECT_NEAR(value_of(r3.out, "Mean KLD"), 0.0, 1e-6);
}

TEST(PerplexityCli, BadInputs) {
  const std::string m = dllm::test::tiny_model("qwen35");
  const std::string f = text_file("bad-text.txt", kText);
  const std::string c = std::to_string(kCtx);
  const std::string base = dllm::test::temp_path("bad-base.bin");
  ASSERT_EQ(run_deltallm({"perplexity", "-m", m, "-f", f, "-c", c, "--chunks", "2", "--kl-divergence-base", base})
                .status,
            0);
  const std::string bytes = dllm::test::read_file(base);

  // truncated base file
  const std::string trunc = dllm::test::temp_path("trunc-base.bin");
  dllm::test::write_file(trunc, bytes.substr(0, bytes.size() - 100));
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "--kl-divergence", trunc}), "truncated");
  // not a base file
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  const std::string magic = dllm::test::temp_path("magic-base.bin");
  dllm::test::write_file(magic, bad_magic);
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "--kl-divergence", magic}), "not a base logits file");
  // a base of another vocabulary (a consistent file with n_vocab 1000)
  {
    std::string v = bytes.substr(0, 28 + 4 * 2 * kCtx);
    const uint32_t n_vocab = 1000;
    std::memcpy(v.data() + 12, &n_vocab, 4);
    v.append(size_t(2) * (kCtx - 1 - kCtx / 2) * n_vocab * 4, '\0');
    const std::string vocab = dllm::test::temp_path("vocab-base.bin");
    dllm::test::write_file(vocab, v);
    expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "--kl-divergence", vocab}), "vocabulary has 1000");
  }
  // a base made from another text
  const std::string other = text_file("other-text.txt", make_text(8, 1500));
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", other, "--kl-divergence", base}), "differs from the base");
  // -c that disagrees with the base file
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "-c", "16", "--kl-divergence", base}),
               "base file's chunk size 32");
  // too short a text: says how many tokens are needed
  const std::string shortf = text_file("short-text.txt", "the people and the world");
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", shortf, "-c", c}), "needs at least 64");
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "-c", "4"}), "at least 8");
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "-c", "100000"}), "trained context of 4096");
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", "/nonexistent.txt"}), "cannot open the text file '/nonexistent.txt'");
  expect_error(run_deltallm({"perplexity", "-m", "/nonexistent.gguf", "-f", f}), "nonexistent.gguf");
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "--bogus"}), "bogus");
  expect_error(run_deltallm({"perplexity", "-m", m}), "--file");
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", f, "--kl-divergence", base, "--kl-divergence-base", trunc}),
               "excludes");
  // a failed run leaves no partial base file
  const std::string none = dllm::test::temp_path("never-base.bin");
  expect_error(run_deltallm({"perplexity", "-m", m, "-f", shortf, "--kl-divergence-base", none}), "needs at least");
  EXPECT_FALSE(std::filesystem::exists(none));
  EXPECT_FALSE(std::filesystem::exists(none + ".tmp"));
}

TEST(PerplexityCli, Help) {
  auto r = run_deltallm({"perplexity", "--help"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* flag : {"-m", "-f", "-c", "-b", "-t", "--chunks", "--kl-divergence-base", "--kl-divergence"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  auto top = run_deltallm({"--help"});
  EXPECT_NE(top.out.find("perplexity"), std::string::npos) << top.out;
}

}  // namespace
