#include "serve/metrics.h"

#include <cstdio>

namespace dllm::serve {

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++n_;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& help) const {
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  char buf[160];
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cum += counts_[i];
    if (i < bounds_.size()) std::snprintf(buf, sizeof buf, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), bounds_[i], (unsigned long long)cum);
    else std::snprintf(buf, sizeof buf, "%s_bucket{le=\"+Inf\"} %llu\n", name.c_str(), (unsigned long long)cum);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "%s_sum %.6f\n%s_count %llu\n", name.c_str(), sum_, name.c_str(), (unsigned long long)n_);
  out += buf;
}

void Metrics::count_request(const std::string& path, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{path, status}];
}

std::string Metrics::prometheus_text(int n_slots) const {
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t v, const char* type = "counter") {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(v) + "\n";
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    out += "# HELP deltallm_requests_total HTTP requests by path and status\n# TYPE deltallm_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      out += "deltallm_requests_total{path=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(n) + "\n";
  }
  counter("deltallm_prompt_tokens_evaluated_total", "prompt tokens evaluated", prompt_tokens_evaluated.load());
  counter("deltallm_prompt_tokens_reused_total", "prompt tokens taken from the prompt cache", prompt_tokens_reused.load());
  counter("deltallm_generated_tokens_total", "tokens generated", generated_tokens.load());
  counter("deltallm_checkpoint_evictions_total", "prompt-cache checkpoints evicted for space", checkpoint_evictions.load());
  counter("deltallm_slots", "slots", uint64_t(n_slots), "gauge");
  counter("deltallm_slots_busy", "slots serving a request", uint64_t(slots_busy.load()), "gauge");
  counter("deltallm_queue_length", "requests waiting for a slot", uint64_t(queue_length.load()), "gauge");
  counter("deltallm_checkpoint_bytes", "bytes of prompt-cache checkpoints", checkpoint_bytes.load(), "gauge");
  counter("deltallm_checkpoints", "prompt-cache checkpoints held", checkpoints.load(), "gauge");
  ttft.write(out, "deltallm_time_to_first_token_seconds", "time from request to first generated token");
  tokens_per_s.write(out, "deltallm_generation_tokens_per_second", "generation speed per request");
  return out;
}

}  // namespace dllm::serve
