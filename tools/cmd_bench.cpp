// deltallm bench: prompt-processing and generation speed in the manner of
// llama-bench (pp = prompt tokens/s in one batch, tg = generated tokens/s one
// token per batch), median and spread over repetitions, with the achieved
// GB/s of weights read per generated token.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "cli_util.h"
#include "command.h"
#include "model/model.h"
#include "runtime/context.h"
#include "util/cpu.h"
#include "util/error.h"
#include "util/log.h"

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

int bench_main(int argc, char** argv) {
  CLI::App app{"Measure prompt processing (pp) and generation (tg) speed.\n"
               "Results go to stdout (markdown table, or JSON with --json); progress to stderr.",
               "deltallm bench"};
  std::string model_path;
  int n_prompt = 512, n_gen = 128, threads = 0, reps = 3, depth = 0;
  bool json = false;
  std::string kv_type = "f16";
  app.add_option("-m,--model", model_path, "GGUF model file")->required();
  app.add_option("-p,--n-prompt", n_prompt, "prompt tokens for the pp test (0: skip)")->check(CLI::Range(0, 1 << 20));
  app.add_option("-n,--n-gen", n_gen, "generated tokens for the tg test (0: skip)")->check(CLI::Range(0, 1 << 20));
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("-r,--repetitions", reps, "repetitions of each test")->check(CLI::Range(1, 1000));
  app.add_option("-d,--depth", depth, "tokens of context already present before each test")->check(CLI::Range(0, 1 << 20));
  app.add_option("--kv-type", kv_type, "KV cache type")->check(CLI::IsMember({"f16", "f32"}));
  app.add_flag("--json", json, "print JSON instead of a markdown table");
  if (!parse_args(app, argc, argv)) return 0;
  if (n_prompt == 0 && n_gen == 0) fail("nothing to measure: -p and -n are both 0");

  auto model = Model::load(model_path);
  const HParams& hp = model->hparams();
  ContextParams cp;
  cp.n_ctx = int64_t(depth) + std::max(n_prompt, n_gen) + 1;
  cp.n_batch = std::max({n_prompt, depth, 1});
  cp.n_threads = threads;
  cp.kv_type = kv_type == "f16" ? KvType::F16 : KvType::F32;
  Context ctx(*model, cp);
  log_info(ctx.memory_plan());

  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(hp.n_vocab - 1));
  auto fill_depth = [&] {
    ctx.seq_clear(0);
    if (depth == 0) return;
    std::vector<BatchEntry> b;
    for (int i = 0; i < depth; ++i) b.push_back({tok(rng), i, 0, false});
    ctx.decode(b);
  };
  const std::string at = depth ? "@d" + std::to_string(depth) : "";
  std::vector<Result> results;
  // warm-up: touch the weights once so the first repetition is not a page-in
  ctx.decode({{tok(rng), 0, 0, true}});
  if (n_prompt > 0) {
    Result r{"pp" + std::to_string(n_prompt) + at, n_prompt, {}};
    for (int i = 0; i < reps; ++i) {
      fill_depth();
      std::vector<BatchEntry> b;
      for (int j = 0; j < n_prompt; ++j) b.push_back({tok(rng), int64_t(depth + j), 0, j + 1 == n_prompt});
      const auto t0 = Clock::now();
      ctx.decode(b);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      r.tps.push_back(n_prompt / s);
      log_info(str_cat(r.test, " rep ", i + 1, "/", reps, ": ", n_prompt / s, " tok/s"));
    }
    results.push_back(r);
  }
  if (n_gen > 0) {
    Result r{"tg" + std::to_string(n_gen) + at, n_gen, {}};
    for (int i = 0; i < reps; ++i) {
      fill_depth();
      const auto t0 = Clock::now();
      for (int j = 0; j < n_gen; ++j) ctx.decode({{tok(rng), int64_t(depth + j), 0, true}});
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      r.tps.push_back(n_gen / s);
      log_info(str_cat(r.test, " rep ", i + 1, "/", reps, ": ", n_gen / s, " tok/s"));
    }
    results.push_back(r);
  }

  const double gb_per_tok = double(model->bytes_per_token()) / 1e9;
  const bool moe = hp.n_expert > 0;
  const std::string model_desc = str_cat(hp.arch_str, " ", hp.n_layer_main, "L ", hp.n_embd, "E");
  const double size_gib = double(model->weight_bytes()) / (1024.0 * 1024.0 * 1024.0);
  int64_t n_params = 0;
  for (const auto& t : model->file().tensors()) n_params += t.n_elements();
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const Result& r : results) {
      const bool tg = r.test.rfind("tg", 0) == 0;
      nlohmann::ordered_json o;
      o["model"] = model_path;
      o["arch"] = hp.arch_str;
      o["size_bytes"] = model->weight_bytes();
      o["n_params"] = n_params;
      o["isa"] = cpu_isa_name();
      o["threads"] = ctx.n_threads();
      o["test"] = r.test;
      o["n_tokens"] = r.n_tokens;
      o["depth"] = depth;
      o["repetitions"] = reps;
      o["tokens_per_s"] = r.tps;
      o["median_tokens_per_s"] = r.median();
      o["stddev_tokens_per_s"] = r.stddev();
      if (tg) {
        o["weight_bytes_per_token"] = model->bytes_per_token();
        o["weight_bytes_per_token_note"] = moe ? "shared weights + active experts only" : "all weights";
        o["median_gb_per_s"] = gb_per_tok * r.median();
      }
      out.push_back(o);
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("| model | size | params | isa | threads | test | t/s | GB/s |\n");
    std::printf("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: |\n");
    for (const Result& r : results) {
      const bool tg = r.test.rfind("tg", 0) == 0;
      char gbs[32] = "";
      if (tg) std::snprintf(gbs, sizeof gbs, "%.2f", gb_per_tok * r.median());
      std::printf("| %s | %.2f GiB | %.2f M | %s | %d | %s | %.2f ± %.2f | %s |\n", model_desc.c_str(), size_gib,
                  double(n_params) / 1e6, cpu_isa_name(), ctx.n_threads(), r.test.c_str(), r.median(), r.stddev(), gbs);
    }
    if (moe) std::printf("\nGB/s counts the weights read per generated token: shared weights plus the %d active of %d experts.\n",
                         hp.n_expert_used, hp.n_expert);
  }
  return 0;
}

const Command reg("bench", "measure prompt processing and generation speed (like llama-bench)", &bench_main);

}  // namespace
}  // namespace dllm::cli
