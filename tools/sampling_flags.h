// Sampling flags shared by `run` and `chat` (defaults of kernels.md §7.1).
#pragma once
#include <CLI/CLI.hpp>
#include <optional>

#include "api_util.h"

namespace dllm::cli {

struct SamplingFlags {
  std::optional<float> temp;  // unset: the command's default
  int top_k = 40;
  float top_p = 0.95f, min_p = 0.05f;
  int repeat_last_n = 64;
  float repeat_penalty = 1.0f, presence_penalty = 0.0f, frequency_penalty = 0.0f;
  std::optional<uint32_t> seed;

  void add_to(CLI::App& app) {
    app.add_option("--temp", temp, "temperature (0: greedy; default 0.8, and 0 with --tokens)")->check(CLI::Range(-1.0f, 100.0f));
    app.add_option("--top-k", top_k, "keep the k most likely tokens (<= 0: off)")->capture_default_str();
    app.add_option("--top-p", top_p, "keep the smallest set whose probability reaches p (>= 1: off)")
        ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
    app.add_option("--min-p", min_p, "drop tokens below p times the top probability (<= 0: off)")
        ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
    app.add_option("--repeat-last-n", repeat_last_n, "window of tokens the penalties look at (0: off, -1: all)")
        ->check(CLI::Range(-1, 1 << 24))->capture_default_str();
    app.add_option("--repeat-penalty", repeat_penalty, "divide repeated tokens' positive logits by this (1: off)")
        ->check(CLI::Range(0.0f, 100.0f))->capture_default_str();
    app.add_option("--presence-penalty", presence_penalty, "subtract from the logit of any repeated token")->capture_default_str();
    app.add_option("--frequency-penalty", frequency_penalty, "subtract times the count of a repeated token")->capture_default_str();
    app.add_option("--seed", seed, "random seed (default: random)");
  }

  SamplerPtr make(const deltallm_model* m, float default_temp) const {
    deltallm_sampler_params p = deltallm_sampler_default_params();
    p.temp = temp.value_or(default_temp);
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.penalty_last_n = repeat_last_n;
    p.penalty_repeat = repeat_penalty;
    p.penalty_present = presence_penalty;
    p.penalty_freq = frequency_penalty;
    if (seed) p.seed = *seed;
    deltallm_sampler* s = nullptr;
    check(deltallm_sampler_create(m, &p, &s));
    return SamplerPtr(s);
  }
};

}  // namespace dllm::cli
