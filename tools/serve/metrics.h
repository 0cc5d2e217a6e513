// Counters for GET /metrics (Prometheus text format). Thread-safe: HTTP
// threads count requests, the inference thread counts tokens.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace dllm::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  void write(std::string& out, const std::string& name, const std::string& help) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // [bucket], the last one is +Inf
  double sum_ = 0;
  uint64_t n_ = 0;
};

struct Metrics {
  std::atomic<uint64_t> prompt_tokens_evaluated{0};
  std::atomic<uint64_t> prompt_tokens_reused{0};
  std::atomic<uint64_t> generated_tokens{0};
  std::atomic<int64_t> slots_busy{0};
  std::atomic<int64_t> queue_length{0};
  std::atomic<uint64_t> checkpoint_bytes{0};
  std::atomic<uint64_t> checkpoints{0};
  std::atomic<uint64_t> checkpoint_evictions{0};
  Histogram ttft{{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}};
  Histogram tokens_per_s{{1, 2, 5, 10, 20, 50, 100, 200, 500}};

  void count_request(const std::string& path, int status);
  std::string prometheus_text(int n_slots) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace dllm::serve
