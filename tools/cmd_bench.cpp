// deltallm bench: prompt-processing and generation speed in the manner of
// llama-bench (pp = prompt tokens/s in one batch, tg = generated tokens/s one
// token per batch), median and spread over repetitions, with the achieved
// GB/s of weights read per generated token. Uses only the C API.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "api_util.h"
#include "cli_util.h"
#include "command.h"

namespace dllm::cli {
namespace {

struct Result {
  std::string test;  // "pp512", "tg128", with "@d<depth>"
  int n_tokens = 0;
  std::vector<double> tps;  // tokens/s per repetition
  double median() const {
    std::vector<double> v = tps;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }
  double stddev() const {
    double m = 0;
    for (double x : tps) m += x;
    m /= double(tps.size());
    double s = 0;
    for (double x : tps) s += (x - m) * (x - m);
    return tps.size() > 1 ? std::sqrt(s / double(tps.size() - 1)) : 0.0;
  }
};

using Clock = std::chrono::steady_clock;

// Streaming read bandwidth of the machine now, with `threads` threads: the
// best of a few passes over 512 MiB (far beyond the caches), each thread
// summing its own contiguous share.
double read_bandwidth_gbs(int threads) {
  const size_t words = (size_t(512) << 20) / sizeof(uint64_t);
  std::vector<uint64_t> buf(words, 1);  // written once: real pages, not the zero page
  threads = std::max(1, threads);
  double best = 0.0;
  std::vector<uint64_t> sink(size_t(threads) * 8);
  for (int pass = 0; pass < 4; ++pass) {
    const auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i)
      ts.emplace_back([&, i] {
        const size_t b = words * size_t(i) / size_t(threads), e = words * size_t(i + 1) / size_t(threads);
        uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (size_t k = b; k + 4 <= e; k += 4) {
          a0 += buf[k];
          a1 += buf[k + 1];
          a2 += buf[k + 2];
          a3 += buf[k + 3];
        }
        sink[size_t(i) * 8] = a0 + a1 + a2 + a3;
      });
    for (auto& t : ts) t.join();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, double(words * sizeof(uint64_t)) / s / 1e9);
  }
  return best;
}

int bench_main(int argc, char** argv) {
  CLI::App app{"Measure prompt processing (pp) and generation (tg) speed.\n"
               "Results go to stdout (markdown table, or JSON with --json); progress to stderr.",
               "deltallm bench"};
  std::string model_path;
  int n_prompt = 512, n_gen = 128, threads = 0, reps = 3, depth = 0;
  bool json = false, membw = false;
  std::string kv_type = "f16";
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("-p,--n-prompt", n_prompt, "prompt tokens for the pp test (0: skip)")->check(CLI::Range(0, 1 << 20));
  app.add_option("-n,--n-gen", n_gen, "generated tokens for the tg test (0: skip)")->check(CLI::Range(0, 1 << 20));
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("-r,--repetitions", reps, "repetitions of each test")->check(CLI::Range(1, 1000));
  app.add_option("-d,--depth", depth, "tokens of context already present before each test")->check(CLI::Range(0, 1 << 20));
  app.add_option("--kv-type", kv_type, "KV cache type")->check(CLI::IsMember({"f16", "f32"}));
  app.add_flag("--json", json, "print JSON instead of a markdown table");
  app.add_flag("--membw", membw,
               "measure the machine's memory read bandwidth (a streaming read with the same threads) right "
               "before the tg test, and report tg's weight traffic as a share of it");
  WeightMemoryFlags wm;
  wm.add(app);
  if (!parse_args(app, argc, argv)) return 0;
  if (n_prompt == 0 && n_gen == 0) fail("nothing to measure: -p and -n are both 0");

  ModelPtr model = load_model(model_path, false, wm.value());
  const deltallm_model_info mi = model_info(model.get());
  if (mi.vocab_only) fail(model_path, ": the file has no weights (a vocab-only file)");
  deltallm_context_params cp = deltallm_context_default_params();
  cp.n_ctx = int64_t(depth) + std::max(n_prompt, n_gen) + 1;
  // The micro-batch of the pp test; the depth is filled in batches of that
  // size (or 512), so the workspace does not grow with the depth.
  cp.n_batch = n_prompt > 0 ? n_prompt : std::max(1, std::min(depth, 512));
  cp.n_threads = threads;
  cp.kv_type = kv_type == "f16" ? DELTALLM_KV_F16 : DELTALLM_KV_F32;
  deltallm_context* raw = nullptr;
  check(deltallm_context_create(model.get(), &cp, &raw));
  ContextPtr ctx(raw);
  std::fprintf(stderr, "%s\n", memory_plan(ctx.get()).c_str());
  deltallm_context_info ci{};
  ci.size = sizeof ci;
  check(deltallm_context_get_info(ctx.get(), &ci));

  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> tok(0, mi.n_vocab - 1);
  auto random_tokens = [&](int n) {
    std::vector<int32_t> t(n);
    for (auto& x : t) x = tok(rng);
    return t;
  };
  auto fill_depth = [&] {
    check(deltallm_seq_clear(ctx.get(), 0));
    if (depth == 0) return;
    const auto t = random_tokens(depth);
    decode_run(ctx.get(), t.data(), t.size(), 0);
  };
  const std::string at = depth ? "@d" + std::to_string(depth) : "";
  std::vector<Result> results;
  // Warm-up, as llama-bench does: one untimed run of each test (pages the
  // weights in, grows every buffer, wakes the threads).
  std::fprintf(stderr, "warm-up\n");
  if (n_prompt > 0) {
    fill_depth();
    const auto t = random_tokens(n_prompt);
    decode_run(ctx.get(), t.data(), t.size(), depth);
  }
  if (n_gen > 0) {
    fill_depth();
    const auto t = random_tokens(2);
    for (int j = 0; j < 2; ++j) decode_run(ctx.get(), &t[j], 1, depth + j);
  }
  if (n_prompt > 0) {
    Result r{"pp" + std::to_string(n_prompt) + at, n_prompt, {}};
    for (int i = 0; i < reps; ++i) {
      fill_depth();
      const auto t = random_tokens(n_prompt);
      const auto t0 = Clock::now();
      decode_run(ctx.get(), t.data(), t.size(), depth);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      r.tps.push_back(n_prompt / s);
      std::fprintf(stderr, "%s rep %d/%d: %.2f tok/s\n", r.test.c_str(), i + 1, reps, n_prompt / s);
    }
    results.push_back(r);
  }
  double membw_gbs = 0.0;
  if (n_gen > 0) {
    if (membw) {
      membw_gbs = read_bandwidth_gbs(ci.n_threads);
      std::fprintf(stderr, "memory read bandwidth (%d threads): %.2f GB/s\n", ci.n_threads, membw_gbs);
    }
    Result r{"tg" + std::to_string(n_gen) + at, n_gen, {}};
    for (int i = 0; i < reps; ++i) {
      fill_depth();
      const auto t = random_tokens(n_gen);
      const auto t0 = Clock::now();
      for (int j = 0; j < n_gen; ++j) decode_run(ctx.get(), &t[j], 1, depth + j);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      r.tps.push_back(n_gen / s);
      std::fprintf(stderr, "%s rep %d/%d: %.2f tok/s\n", r.test.c_str(), i + 1, reps, n_gen / s);
    }
    results.push_back(r);
  }

  const double gb_per_tok = double(mi.bytes_per_token) / 1e9;
  const bool moe = mi.n_expert > 0;
  const std::string model_desc = str_cat(mi.architecture, " ", mi.n_layer, "L ", mi.n_embd, "E");
  const double size_gib = double(mi.weight_bytes) / (1024.0 * 1024.0 * 1024.0);
  const std::string isa = deltallm_capability_value(DELTALLM_CAP_AVX512_VNNI) ? "avx512_vnni"
                          : deltallm_capability_value(DELTALLM_CAP_AVX512) ? "avx512"
                          : deltallm_capability_value(DELTALLM_CAP_AVX2)   ? "avx2"
                                                                           : "portable";
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const Result& r : results) {
      const bool tg = r.test.rfind("tg", 0) == 0;
      nlohmann::ordered_json o;
      o["model"] = model_path;
      o["arch"] = mi.architecture;
      o["size_bytes"] = mi.weight_bytes;
      o["n_params"] = mi.n_params;
      o["isa"] = isa;
      o["threads"] = ci.n_threads;
      o["test"] = r.test;
      o["n_tokens"] = r.n_tokens;
      o["depth"] = depth;
      o["repetitions"] = reps;
      o["tokens_per_s"] = r.tps;
      o["median_tokens_per_s"] = r.median();
      o["stddev_tokens_per_s"] = r.stddev();
      if (tg) {
        o["weight_bytes_per_token"] = mi.bytes_per_token;
        o["weight_bytes_per_token_note"] = moe ? "shared weights + active experts only" : "all weights";
        o["median_gb_per_s"] = gb_per_tok * r.median();
        if (membw_gbs > 0) {
          o["membw_gb_per_s"] = membw_gbs;
          o["membw_share"] = gb_per_tok * r.median() / membw_gbs;
        }
      }
      out.push_back(o);
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("| model | size | params | isa | threads | test | t/s | GB/s |\n");
    std::printf("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: |\n");
    for (const Result& r : results) {
      const bool tg = r.test.rfind("tg", 0) == 0;
      char gbs[64] = "";
      if (tg && membw_gbs > 0)
        std::snprintf(gbs, sizeof gbs, "%.2f (%.0f%% of %.1f)", gb_per_tok * r.median(),
                      100.0 * gb_per_tok * r.median() / membw_gbs, membw_gbs);
      else if (tg)
        std::snprintf(gbs, sizeof gbs, "%.2f", gb_per_tok * r.median());
      std::printf("| %s | %.2f GiB | %.2f M | %s | %d | %s | %.2f ± %.2f | %s |\n", model_desc.c_str(), size_gib,
                  double(mi.n_params) / 1e6, isa.c_str(), ci.n_threads, r.test.c_str(), r.median(), r.stddev(), gbs);
    }
    if (moe) std::printf("\nGB/s counts the weights read per generated token: shared weights plus the %d active of %d experts.\n",
                         mi.n_expert_used, mi.n_expert);
  }
  return 0;
}

const Command reg("bench", "measure prompt processing and generation speed (like llama-bench)", &bench_main);

}  // namespace
}  // namespace dllm::cli
