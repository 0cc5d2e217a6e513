// deltallm imatrix: the importance matrix of a model over a text, as
// llama.cpp's `llama-imatrix` computes it, for quantizing with an imatrix.
// The inference goes through the C API alone (the activation callback of
// deltallm.h); the file formats are formats/imatrix.h.
//
// Conventions (those of ik_llama.cpp's examples/imatrix/imatrix.cpp):
// - The text is tokenized (BOS/EOS as the model asks, special-token texts
//   plain) and cut into chunks of -c tokens (the tail is dropped), each
//   evaluated from an empty sequence in batches of -b tokens; the first token
//   of a chunk becomes BOS when the model adds BOS.
// - Every weight matrix of the layers ("blk.*") that a matmul multiplies
//   collects, per input column, the sum of the squares of its input rows;
//   a call is one micro-batch. A dense weight ignores micro-batches of fewer
//   than 16 rows (as the reference does). A stacked MoE tensor collects each
//   expert from the rows routed to it, and counts one call per micro-batch.
//   The output head only with --process-output; token_embd never (a lookup).
// - dat output: value = (sum of x^2 / rows) * ncall per column (per expert:
//   over that expert's rows); an MoE tensor with experts that saw no rows is
//   left out unless fewer than 5% of its experts lack data (then those get 1s).
//   last_call = the largest ncall, the dataset name = the -f argument.
// - gguf output (mainline llama.cpp): <name>.in_sum2 = the sums of x^2,
//   <name>.counts = rows per expert (unused experts: 0), imatrix.chunk_count
//   = chunks evaluated, imatrix.chunk_size = -c, imatrix.datasets = [-f].
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"
#include "formats/imatrix.h"

namespace dllm::cli {
namespace {

constexpr int kMinDenseRows = 16;  // llama-imatrix ignores smaller batches of a dense matmul

struct Stats {
  std::vector<double> sum2;     // [n_mat][n_cols]
  std::vector<int64_t> rows;    // [n_mat]
  int32_t ncall = 0;
  int64_t last_batch = -1;      // the micro-batch that counted the last call
};

struct Collector {
  int32_t n_expert = 0;
  bool process_output = false;
  int64_t batch = 0;  // index of the current micro-batch (one decode = one micro-batch)
  std::map<std::string, Stats> stats;
  std::string error;  // the first problem seen (reported after the decode)

  void add(const char* name, int32_t expert, const float* x, int32_t n_rows, int32_t n_cols) {
    if (!error.empty()) return;
    const std::string wname = name;
    if (wname.rfind("blk.", 0) != 0 && !(process_output && (wname == "output.weight" || wname == "token_embd.weight")))
      return;
    if (expert < 0 && n_rows < kMinDenseRows) return;
    const int64_t n_mat = expert >= 0 ? n_expert : 1;
    if (expert >= n_mat) {
      error = wname + ": expert " + std::to_string(expert) + " out of range";
      return;
    }
    Stats& s = stats[wname];
    if (s.sum2.empty()) {
      s.sum2.assign(size_t(n_mat * n_cols), 0.0);
      s.rows.assign(size_t(n_mat), 0);
    } else if (s.sum2.size() != size_t(n_mat * n_cols)) {
      error = wname + ": inconsistent input width " + std::to_string(n_cols);
      return;
    }
    if (s.last_batch != batch) {
      s.last_batch = batch;
      ++s.ncall;
    }
    double* acc = s.sum2.data() + size_t(std::max(expert, 0)) * size_t(n_cols);
    for (int32_t r = 0; r < n_rows; ++r) {
      const float* row = x + size_t(r) * size_t(n_cols);
      for (int32_t j = 0; j < n_cols; ++j) {
        if (std::isnan(row[j])) {
          error = "NaN in the input of " + wname;
          return;
        }
        acc[j] += double(row[j]) * double(row[j]);
      }
    }
    s.rows[size_t(std::max(expert, 0))] += n_rows;
  }

  static void callback(void* user, const char* name, int32_t expert, const float* rows, int32_t n_rows,
                       int32_t n_cols) {
    static_cast<Collector*>(user)->add(name, expert, rows, n_rows, n_cols);
  }
};

// The dat format's entries (ik_llama.cpp's save_imatrix conventions).
Imatrix to_dat(const Collector& col, const std::string& dataset) {
  Imatrix m;
  m.format = ImatrixFormat::Dat;
  m.datasets = {dataset};
  for (const auto& [name, s] : col.stats) {
    const size_t n_mat = s.rows.size(), n_cols = s.sum2.size() / n_mat;
    const size_t missing = size_t(std::count(s.rows.begin(), s.rows.end(), int64_t(0)));
    if (missing == n_mat) {
      std::fprintf(stderr, "imatrix: %s has no data, left out\n", name.c_str());
      continue;
    }
    if (missing > 0 && double(missing) >= std::round(double(n_mat) * 0.05)) {
      std::fprintf(stderr, "imatrix: %s: %zu of %zu experts saw no tokens, left out\n", name.c_str(), missing, n_mat);
      continue;
    }
    if (missing > 0)
      std::fprintf(stderr, "imatrix: %s: %zu of %zu experts saw no tokens, stored with 1s for them\n", name.c_str(),
                   missing, n_mat);
    ImatrixEntry e;
    e.counts = {float(s.ncall)};
    e.values.resize(s.sum2.size());
    for (size_t i = 0; i < s.sum2.size(); ++i) {
      const int64_t rows = s.rows[i / n_cols];
      e.values[i] = rows > 0 ? float(s.sum2[i] / double(rows)) * float(s.ncall) : 1.0f;
    }
    m.chunk_count = std::max(m.chunk_count, s.ncall);
    m.entries.emplace(name, std::move(e));
  }
  return m;
}

// The GGUF format's entries (mainline llama.cpp's).
Imatrix to_gguf(const Collector& col, const std::string& dataset, int32_t n_chunks, int32_t chunk_size) {
  Imatrix m;
  m.format = ImatrixFormat::Gguf;
  m.datasets = {dataset};
  m.chunk_count = n_chunks;
  m.chunk_size = chunk_size;
  for (const auto& [name, s] : col.stats) {
    ImatrixEntry e;
    e.values.assign(s.sum2.begin(), s.sum2.end());
    for (int64_t r : s.rows) e.counts.push_back(float(r));
    m.entries.emplace(name, std::move(e));
  }
  return m;
}

using Clock = std::chrono::steady_clock;

// --show: one line for the file, one per entry (name, counts, values, the
// mean over its columns of the mean square).
int show(const std::string& path) {
  const Imatrix m = read_imatrix(path);
  std::string ds;
  for (const std::string& d : m.datasets) ds += (ds.empty() ? "" : ", ") + d;
  std::printf("%s: %s imatrix, %zu entries, chunk count %d", path.c_str(),
              m.format == ImatrixFormat::Gguf ? "GGUF" : "dat (legacy)", m.entries.size(), m.chunk_count);
  if (m.chunk_size > 0) std::printf(", chunk size %d", m.chunk_size);
  std::printf(", datasets [%s]\n", ds.c_str());
  for (const auto& [name, e] : m.entries) {
    const std::vector<float> ms = e.mean_squares();
    double mean = 0;
    for (float v : ms) mean += v;
    mean /= double(std::max<size_t>(ms.size(), 1));
    float lo = e.counts[0], hi = e.counts[0];
    for (float c : e.counts) lo = std::min(lo, c), hi = std::max(hi, c);
    std::printf("%-40s %s %-12g", name.c_str(), m.format == ImatrixFormat::Gguf ? "rows" : "calls", double(hi));
    if (e.n_mat() > 1) std::printf(" (min %g over %lld experts)", double(lo), (long long)e.n_mat());
    std::printf(" values %-8zu mean square %.6g\n", e.values.size(), mean);
  }
  return 0;
}

int imatrix_main(int argc, char** argv) {
  CLI::App app{"Importance matrix of a model over a text, as llama.cpp's llama-imatrix computes it: per weight\n"
               "matrix of the layers, the per-column mean square of the activations that enter it (MoE experts:\n"
               "over the tokens routed to each), for quantizing with an imatrix. The text is cut into chunks of\n"
               "-c tokens, each evaluated from an empty sequence in batches of -b tokens. Writes ik_llama.cpp's\n"
               "legacy imatrix.dat (default) or mainline llama.cpp's GGUF imatrix. Progress goes to stderr.",
               "deltallm imatrix"};
  std::string model_path, text_path, out_path, format = "dat";
  int n_ctx = 512, n_batch = 0, threads = 0, max_chunks = 0;
  bool process_output = false;
  std::string show_path;
  app.add_option("-m,--model", model_path, "GGUF model file (required unless --show)");
  app.add_option("-f,--file", text_path,
                 "calibration text (read verbatim; tokenized with the model's tokenizer; required unless --show)");
  app.add_option("--show", show_path,
                 "instead: read an imatrix file (either format), check it and print a summary of its entries");
  app.add_option("-o,--output", out_path, "output file (default imatrix.dat, or imatrix.gguf with --output-format gguf)");
  app.add_option("-c,--ctx-size", n_ctx, "tokens per chunk (at least 8, at most the model's trained context)")
      ->capture_default_str();
  app.add_option("-b,--batch-size", n_batch,
                 "tokens per micro-batch, one matmul call each (0: min(-c, 512), as llama.cpp's n_ubatch)")
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("--chunks", max_chunks, "evaluate at most N chunks (0: all the text holds)")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--output-format", format, "dat (ik_llama.cpp's legacy format) or gguf (mainline llama.cpp's)")
      ->capture_default_str();
  app.add_flag("--process-output", process_output, "also collect the output head (llama-imatrix's flag)");
  WeightMemoryFlags wm;
  wm.add(app);
  if (!parse_args(app, argc, argv)) return 0;
  if (!show_path.empty()) return show(show_path);
  if (model_path.empty() || text_path.empty()) fail("imatrix needs -m MODEL and -f TEXT (or --show FILE)");
  if (format != "dat" && format != "gguf") fail("--output-format must be dat or gguf, not '", format, "'");
  if (out_path.empty()) out_path = format == "gguf" ? "imatrix.gguf" : "imatrix.dat";
  if (n_ctx < 8) fail("-c ", n_ctx, " is too small: a chunk needs at least 8 tokens");

  const std::string text = read_text_file(text_path, "the text file");
  ModelPtr model = load_model(model_path, false, wm.value());
  const deltallm_model_info mi = model_info(model.get());
  if (mi.vocab_only) fail(model_path, ": the file has no weights (a vocab-only file)");
  if (n_ctx > mi.n_ctx_train) fail("-c ", n_ctx, " exceeds the model's trained context of ", mi.n_ctx_train, " tokens");

  // As llama.cpp: BOS/EOS as the model says, special-token texts not parsed.
  const std::vector<int32_t> tokens = tokenize(model.get(), text, DELTALLM_TOKENIZE_ADD_SPECIAL);
  const deltallm_vocab_info vi = vocab_info(model.get());
  const int32_t bos = vi.add_bos ? vi.bos : -1;
  const size_t c = size_t(n_ctx);
  if (tokens.size() < c)
    fail(text_path, " has ", tokens.size(), " tokens, less than one chunk of ", c,
         " (-c): use a longer text or a smaller -c");
  size_t n_chunks = tokens.size() / c;
  if (max_chunks > 0) n_chunks = std::min(n_chunks, size_t(max_chunks));
  const int b = n_batch > 0 ? std::min(n_batch, n_ctx) : std::min(n_ctx, 512);

  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = n_ctx;
  cp.n_batch = b;
  cp.n_threads = threads;
  deltallm_context* raw = nullptr;
  check(deltallm_context_create(model.get(), &cp, &raw));
  ContextPtr ctx(raw);
  std::fprintf(stderr, "%s\n", memory_plan(ctx.get()).c_str());
  std::fprintf(stderr, "imatrix: %zu tokens, %zu chunks of %zu in batches of %d%s\n", tokens.size(), n_chunks, c, b,
               bos >= 0 ? ", BOS first" : "");

  Collector col;
  col.n_expert = mi.n_expert;
  col.process_output = process_output;
  check(deltallm_context_set_activation_callback(ctx.get(), &Collector::callback, &col));
  std::vector<int32_t> chunk(c);
  std::vector<int64_t> pos(c);
  std::vector<int8_t> want(c, process_output ? 1 : 0);
  for (size_t k = 0; k < c; ++k) pos[k] = int64_t(k);
  const auto t0 = Clock::now();
  for (size_t ch = 0; ch < n_chunks; ++ch) {
    std::copy_n(tokens.begin() + ptrdiff_t(ch * c), c, chunk.begin());
    if (bos >= 0) chunk[0] = bos;
    check(deltallm_seq_clear(ctx.get(), -1));  // every chunk from an empty state
    for (size_t s = 0; s < c; s += size_t(b)) {
      const size_t n = std::min(size_t(b), c - s);
      deltallm_batch batch = deltallm_batch_default_params();
      batch.n_tokens = int32_t(n);
      batch.tokens = chunk.data() + s;
      batch.pos = pos.data() + s;
      want[s + n - 1] = 1;  // logits of the last row at least (nothing reads them without --process-output)
      batch.logits = want.data() + s;
      check(deltallm_decode(ctx.get(), &batch));
      want[s + n - 1] = process_output ? 1 : 0;
      ++col.batch;
      if (!col.error.empty()) fail(col.error);
    }
    if (ch == 0) {
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::fprintf(stderr, "first chunk: %.2f s, about %.1f s for all %zu\n", secs, secs * double(n_chunks), n_chunks);
    }
    std::fprintf(stderr, "[%zu]", ch + 1);
    std::fflush(stderr);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr, "\n%zu chunks (%zu tokens) in %.2f s (%.1f tokens/s)\n", n_chunks, n_chunks * c, secs,
               double(n_chunks * c) / std::max(secs, 1e-9));

  if (format == "gguf") {
    const Imatrix m = to_gguf(col, text_path, int32_t(n_chunks), n_ctx);
    write_imatrix_gguf(m, out_path);
    std::fprintf(stderr, "imatrix: %zu entries, %zu chunks, written to %s (GGUF)\n", m.entries.size(), n_chunks,
                 out_path.c_str());
  } else {
    const Imatrix m = to_dat(col, text_path);
    if (m.entries.empty()) fail("no weight collected any data: nothing to write");
    write_imatrix_dat(m, out_path);
    std::fprintf(stderr, "imatrix: %zu entries, %d calls, written to %s\n", m.entries.size(), m.chunk_count,
                 out_path.c_str());
  }
  return 0;
}

const Command reg("imatrix", "importance matrix over a text (llama-imatrix's .dat or GGUF) for quantization",
                  &imatrix_main);

}  // namespace
}  // namespace dllm::cli
