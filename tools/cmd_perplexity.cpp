// deltallm perplexity: the perplexity of a model over a text file, computed as
// llama.cpp's `llama-perplexity` does, and the KL divergence of its
// next-token distributions from those of a base model (llama.cpp's
// --kl-divergence-base / --kl-divergence). Uses only the C API.
//
// Chunks. The text is tokenized (BOS/EOS as the model asks; special-token
// texts stay plain text) and cut into n_chunks = n_tokens / c chunks of c
// tokens (the tail is dropped). Each chunk is evaluated from an empty
// sequence; its first token is replaced by BOS when the model adds BOS. With
// first = c / 2, the logits at positions first .. c-2 are scored against the
// tokens at first+1 .. c-1: n_scored = c - 1 - first predictions per chunk
// (the first half only gives them context). NLL = lse(logits) - logit[next],
// in double. PPL = exp(mean NLL) +/- PPL * sqrt(var(NLL) / (n - 1)).
//
// Base file (--kl-divergence-base OUT), little-endian, no padding:
//   offset  bytes                       field
//   0       8                           magic "DLLMKLDB"
//   8       4                           uint32 version = 1
//   12      4                           uint32 n_vocab   (length of a logits row)
//   16      4                           uint32 n_ctx     (c, tokens per chunk)
//   20      4                           uint32 n_chunks
//   24      4                           uint32 n_scored  (= n_ctx - 1 - n_ctx / 2)
//   28      4 * n_chunks * n_ctx        int32 tokens: the text's first n_chunks * n_ctx token ids
//                                       (as tokenized, before the BOS replacement)
//   ...     4 * n_chunks * n_scored * n_vocab
//                                       float32 logits [n_chunks][n_scored][n_vocab]: the raw
//                                       logits of positions first .. c-2 of each chunk
// The logits are kept whole (not quantized as llama.cpp's file does), so a
// model compared with itself gives KL = 0 exactly; the price is size:
// 4 * n_vocab bytes per scored position (--chunks limits it).
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"

namespace dllm::cli {
namespace {

static_assert(std::endian::native == std::endian::little, "the base file is written in the machine's byte order");

constexpr char kMagic[8] = {'D', 'L', 'L', 'M', 'K', 'L', 'D', 'B'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 28;

struct BaseHeader {
  uint32_t n_vocab = 0, n_ctx = 0, n_chunks = 0, n_scored = 0;
  uint64_t file_bytes() const {
    return kHeaderBytes + 4 * uint64_t(n_chunks) * n_ctx + 4 * uint64_t(n_chunks) * n_scored * n_vocab;
  }
};

int n_scored_of(int n_ctx) { return n_ctx - 1 - n_ctx / 2; }

// Reads and checks the header of a base file; the stream is left at the tokens.
BaseHeader read_base_header(std::ifstream& in, const std::string& path) {
  char head[kHeaderBytes];
  if (!in.read(head, sizeof head)) fail(path, ": too short for a base file (", kHeaderBytes, "-byte header)");
  if (std::memcmp(head, kMagic, sizeof kMagic) != 0)
    fail(path, ": not a base logits file (no DLLMKLDB magic; make one with --kl-divergence-base)");
  uint32_t f[5];
  std::memcpy(f, head + 8, sizeof f);
  if (f[0] != kVersion) fail(path, ": base file version ", f[0], ", this deltallm reads version ", kVersion);
  BaseHeader h{f[1], f[2], f[3], f[4]};
  if (h.n_vocab == 0 || h.n_ctx < 8 || h.n_chunks == 0 || h.n_ctx > (1u << 24) ||
      h.n_scored != uint32_t(n_scored_of(int(h.n_ctx))))
    fail(path, ": bad base file header (n_vocab ", h.n_vocab, ", n_ctx ", h.n_ctx, ", n_chunks ", h.n_chunks,
         ", n_scored ", h.n_scored, ")");
  const uint64_t want = h.file_bytes(), have = std::filesystem::file_size(path);
  if (have < want)
    fail(path, ": truncated: ", have, " bytes, its header (", h.n_chunks, " chunks of ", h.n_ctx, " tokens, n_vocab ",
         h.n_vocab, ") needs ", want);
  if (have > want) fail(path, ": ", have - want, " bytes beyond the ", want, " its header describes");
  return h;
}

// Log-softmax of one logits row, in double: lp[j] = l[j] - logsumexp(l).
// Returns the index of the largest logit (the first one on ties).
int32_t log_softmax(const float* l, size_t n, std::vector<double>& lp) {
  size_t top = 0;
  for (size_t j = 1; j < n; ++j)
    if (l[j] > l[top]) top = j;
  const double mx = l[top];
  double sum = 0.0;
  for (size_t j = 0; j < n; ++j) sum += std::exp(double(l[j]) - mx);
  const double lse = mx + std::log(sum);
  lp.resize(n);
  for (size_t j = 0; j < n; ++j) lp[j] = double(l[j]) - lse;
  return int32_t(top);
}

// Running mean of a quantity with the standard error of that mean, as
// llama.cpp computes it: sqrt((E[x^2] - E[x]^2) / (n - 1)).
struct Mean {
  double sum = 0, sum2 = 0;
  uint64_t n = 0;
  void add(double x) {
    sum += x;
    sum2 += x * x;
    ++n;
  }
  double mean() const { return n ? sum / double(n) : 0.0; }
  double err() const {
    if (n < 2) return 0.0;
    const double m = mean(), var = sum2 / double(n) - m * m;
    return var > 0 ? std::sqrt(var / double(n - 1)) : 0.0;
  }
};

// Linear interpolation between the order statistics of sorted v.
double percentile(const std::vector<double>& v, double frac) {
  const double x = frac * double(v.size() - 1);
  const size_t i = size_t(x);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (x - double(i)) * (v[i + 1] - v[i]);
}

using Clock = std::chrono::steady_clock;

int perplexity_main(int argc, char** argv) {
  CLI::App app{"Perplexity of a model over a text file, as llama.cpp's llama-perplexity computes it: the text is\n"
               "cut into chunks of -c tokens, each evaluated from an empty sequence (first token BOS when the\n"
               "model adds BOS); the second half of each chunk is scored. Progress ([chunk]PPL so far) goes to\n"
               "stderr; stdout gets only the result: 'PPL = X +/- err'. With --kl-divergence, also the KL\n"
               "divergence of this model's next-token distributions from a base model's.",
               "deltallm perplexity"};
  std::string model_path, text_path, base_out, base_in;
  int n_ctx = 512, n_batch = 0, threads = 0, max_chunks = 0;
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("-f,--file", text_path, "text file (read verbatim; tokenized with the model's tokenizer)")
      ->required();
  auto* opt_c = app.add_option("-c,--ctx-size", n_ctx,
                               "tokens per chunk (at least 8, at most the model's trained context; with "
                               "--kl-divergence: the base file's unless given)")
                    ->capture_default_str();
  app.add_option("-b,--batch-size", n_batch, "largest micro-batch of the forward pass (0: the chunk size -c)")
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("--chunks", max_chunks, "evaluate at most N chunks (0: all the text holds)")
      ->check(CLI::Range(0, 1 << 30));
  auto* opt_base_out = app.add_option("--kl-divergence-base", base_out,
                                      "also write the logits of every scored position to OUT (float32, "
                                      "4 * n_vocab bytes per position; format in tools/cmd_perplexity.cpp)");
  auto* opt_base_in = app.add_option("--kl-divergence", base_in,
                                     "compare with a base file written by --kl-divergence-base over the same "
                                     "text: PPL, mean/max/99%/median KL divergence (base || this model), same "
                                     "top token %");
  opt_base_out->excludes(opt_base_in);
  WeightMemoryFlags wm;
  wm.add(app);
  if (!parse_args(app, argc, argv)) return 0;

  const std::string text = read_text_file(text_path, "the text file");
  // A base file is checked as far as it can be before the model loads.
  std::ifstream base;
  BaseHeader bh;
  if (!base_in.empty()) {
    base.open(base_in, std::ios::binary);
    if (!base) fail("cannot open ", base_in);
    bh = read_base_header(base, base_in);
    if (opt_c->count() && uint32_t(n_ctx) != bh.n_ctx)
      fail("-c ", n_ctx, " differs from the base file's chunk size ", bh.n_ctx, " (leave -c out to use it)");
    n_ctx = int(bh.n_ctx);
  }
  if (n_ctx < 8) fail("-c ", n_ctx, " is too small: a chunk needs at least 8 tokens");

  ModelPtr model = load_model(model_path, false, wm.value());
  const deltallm_model_info mi = model_info(model.get());
  if (mi.vocab_only) fail(model_path, ": the file has no weights (a vocab-only file)");
  if (n_ctx > mi.n_ctx_train) fail("-c ", n_ctx, " exceeds the model's trained context of ", mi.n_ctx_train, " tokens");
  if (!base_in.empty() && bh.n_vocab != uint32_t(mi.n_vocab))
    fail(base_in, ": the base model's vocabulary has ", bh.n_vocab, " entries, this model's ", mi.n_vocab,
         " (the models must share a vocabulary)");

  // As llama.cpp: BOS/EOS as the model says, special-token texts not parsed.
  const std::vector<int32_t> tokens = tokenize(model.get(), text, DELTALLM_TOKENIZE_ADD_SPECIAL);
  const deltallm_vocab_info vi = vocab_info(model.get());
  const int32_t bos = vi.add_bos ? vi.bos : -1;
  const size_t c = size_t(n_ctx), first = c / 2, n_scored = size_t(n_scored_of(n_ctx));
  const size_t V = size_t(mi.n_vocab);
  if (tokens.size() < 2 * c)
    fail(text_path, " has ", tokens.size(), " tokens; a context of ", c, " needs at least ", 2 * c,
         " (2 * -c): use a longer text or a smaller -c");
  size_t n_chunks = tokens.size() / c;
  if (!base_in.empty()) {
    if (tokens.size() < size_t(bh.n_chunks) * c)
      fail(text_path, " has ", tokens.size(), " tokens, the base file ", base_in, " holds ", bh.n_chunks,
           " chunks of ", c, " (", size_t(bh.n_chunks) * c, " tokens): is it the same text?");
    n_chunks = bh.n_chunks;
    std::vector<int32_t> base_tokens(n_chunks * c);
    if (!base.read(reinterpret_cast<char*>(base_tokens.data()), std::streamsize(base_tokens.size() * 4)))
      fail("cannot read ", base_in);
    for (size_t i = 0; i < base_tokens.size(); ++i)
      if (base_tokens[i] != tokens[i])
        fail("token ", i, " of ", text_path, " (id ", tokens[i], ") differs from the base file's (id ", base_tokens[i],
             "): the base was made from another text or tokenizer");
  }
  if (max_chunks > 0) n_chunks = std::min(n_chunks, size_t(max_chunks));

  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = n_ctx;
  cp.n_batch = n_batch > 0 ? std::min(n_batch, n_ctx) : n_ctx;
  cp.n_threads = threads;
  deltallm_context* raw = nullptr;
  check(deltallm_context_create(model.get(), &cp, &raw));
  ContextPtr ctx(raw);
  std::fprintf(stderr, "%s\n", memory_plan(ctx.get()).c_str());
  std::fprintf(stderr,
               "perplexity: %zu tokens, %zu chunks of %zu, scoring positions %zu..%zu of each (%zu predictions)%s\n",
               tokens.size(), n_chunks, c, first, c - 2, n_scored * n_chunks, bos >= 0 ? ", BOS first" : "");

  // The base file is written to OUT.tmp and renamed when complete; an error
  // on the way removes the partial file.
  std::ofstream out;
  const std::string out_tmp = base_out + ".tmp";
  struct RemoveOnError {
    const std::string* path;
    bool done = false;
    ~RemoveOnError() {
      if (!done && path) std::remove(path->c_str());
    }
  } cleanup{base_out.empty() ? nullptr : &out_tmp};
  if (!base_out.empty()) {
    out.open(out_tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write ", out_tmp);
    const uint32_t f[5] = {kVersion, uint32_t(V), uint32_t(c), uint32_t(n_chunks), uint32_t(n_scored)};
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(f), sizeof f);
    out.write(reinterpret_cast<const char*>(tokens.data()), std::streamsize(n_chunks * c * 4));
  }

  Mean nll, base_nll, kld, same_top;
  std::vector<double> klds;  // every position's KL divergence, for the percentiles
  std::vector<int32_t> batch_tokens(c);
  std::vector<int64_t> pos(c);
  std::vector<int8_t> want(c, 0);
  for (size_t k = 0; k < c; ++k) pos[k] = int64_t(k);
  for (size_t k = first; k + 1 < c; ++k) want[k] = 1;  // position c-1 predicts a token outside the chunk
  std::vector<float> base_row(base_in.empty() ? 0 : V);
  std::vector<double> lp, lp_base;
  const bool kl_mode = !base_in.empty();
  const auto t0 = Clock::now();
  for (size_t ch = 0; ch < n_chunks; ++ch) {
    const size_t start = ch * c;
    std::copy_n(tokens.begin() + ptrdiff_t(start), c, batch_tokens.begin());
    if (bos >= 0) batch_tokens[0] = bos;
    check(deltallm_seq_clear(ctx.get(), -1));  // every chunk from an empty state
    deltallm_batch b = deltallm_batch_default_params();
    b.n_tokens = int32_t(c);
    b.tokens = batch_tokens.data();
    b.pos = pos.data();
    b.logits = want.data();
    check(deltallm_decode(ctx.get(), &b));
    for (size_t r = 0; r < n_scored; ++r) {
      const float* row = nullptr;
      check(deltallm_get_logits(ctx.get(), int32_t(r), &row));  // row r: position first + r
      const int32_t next = tokens[start + first + r + 1];
      const int32_t top = log_softmax(row, V, lp);
      nll.add(-lp[size_t(next)]);
      if (out.is_open()) out.write(reinterpret_cast<const char*>(row), std::streamsize(V * 4));
      if (kl_mode) {
        if (!base.read(reinterpret_cast<char*>(base_row.data()), std::streamsize(V * 4))) fail("cannot read ", base_in);
        const int32_t base_top = log_softmax(base_row.data(), V, lp_base);
        base_nll.add(-lp_base[size_t(next)]);
        // KL(base || this) = sum_j p_base[j] * (log p_base[j] - log p[j])
        double kl = 0.0;
        for (size_t j = 0; j < V; ++j) kl += std::exp(lp_base[j]) * (lp_base[j] - lp[j]);
        kld.add(kl);
        klds.push_back(kl);
        same_top.add(top == base_top ? 1.0 : 0.0);
      }
    }
    if (out.is_open() && !out) fail("cannot write ", out_tmp);
    if (ch == 0) {
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::fprintf(stderr, "first chunk: %.2f s, about %.1f s for all %zu; [chunk]PPL%s so far:\n", s,
                   s * double(n_chunks), n_chunks, kl_mode ? "/mean KLD" : "");
    }
    if (kl_mode) std::fprintf(stderr, "[%zu]%.4f/%.8f,", ch + 1, std::exp(nll.mean()), kld.mean());
    else std::fprintf(stderr, "[%zu]%.4f,", ch + 1, std::exp(nll.mean()));
    std::fflush(stderr);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr, "\n%zu chunks (%zu tokens) in %.2f s (%.1f tokens/s)\n", n_chunks, n_chunks * c, secs,
               double(n_chunks * c) / std::max(secs, 1e-9));
  if (out.is_open()) {
    out.close();
    if (!out) fail("cannot write ", out_tmp);
    std::error_code ec;
    std::filesystem::rename(out_tmp, base_out, ec);
    if (ec) fail("cannot rename ", out_tmp, " to ", base_out, ": ", ec.message());
    cleanup.done = true;
    std::fprintf(stderr, "base logits written to %s\n", base_out.c_str());
  }

  const double ppl = std::exp(nll.mean());
  std::printf("PPL = %.4f +/- %.5f\n", ppl, ppl * nll.err());
  if (kl_mode) {
    const double base_ppl = std::exp(base_nll.mean());
    std::sort(klds.begin(), klds.end());
    std::printf("PPL(base) = %.4f +/- %.5f\n", base_ppl, base_ppl * base_nll.err());
    // Fixed point with 8 decimals: a close quantization's KLD is of order 1e-5 .. 1e-3.
    std::printf("Mean KLD = %.8f +/- %.8f\n", kld.mean(), kld.err());
    std::printf("Max KLD = %.8f\n", klds.back());
    std::printf("99.0%% KLD = %.8f\n", percentile(klds, 0.99));
    std::printf("Median KLD = %.8f\n", percentile(klds, 0.5));
    std::printf("Same top token = %.3f +/- %.3f %%\n", 100.0 * same_top.mean(), 100.0 * same_top.err());
  }
  return 0;
}

const Command reg("perplexity", "perplexity over a text file; KL divergence from a base model's logits",
                  &perplexity_main);

}  // namespace
}  // namespace dllm::cli
