// One request's generation, shared by the HTTP thread that waits for it and
// the inference thread that runs it: the inference thread appends text and
// finishes it; the HTTP thread takes what is new, or cancels it.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "serve/prompt.h"
#include "serve/request.h"

namespace dllm::serve {

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;  // most likely alternatives, best first
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens taken from the prompt cache
};

class Job {
 public:
  Job(Prompt prompt, GenParams params) : prompt(std::move(prompt)), params(std::move(params)) {}

  const Prompt prompt;
  const GenParams params;
  const std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();

  // What is new since the last take().
  struct Update {
    std::string text;
    std::vector<TokenLogprob> logprobs;
    bool done = false;
    std::string finish_reason;  // "stop" or "length" when done without error
    std::string stop_sequence;  // the stop string that ended it ("" : none did)
    std::string error;          // set when it ended with an error
  };

  // --- the inference thread
  void emit(const std::string& text, const TokenLogprob* lp) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.text += text;
    if (lp) pending_.logprobs.push_back(*lp);
    cv_.notify_all();
  }
  void finish(const std::string& reason, const std::string& error, const Usage& usage,
              const std::string& stop_sequence = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.done) return;
    pending_.done = true;
    pending_.finish_reason = reason;
    pending_.stop_sequence = stop_sequence;
    pending_.error = error;
    usage_ = usage;
    cv_.notify_all();
  }
  bool cancelled() const { return cancelled_.load(); }

  // --- the HTTP thread
  // Waits up to `wait` for something new; returns it (possibly empty).
  Update take(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [&] { return !pending_.text.empty() || !pending_.logprobs.empty() || pending_.done; });
    Update u = std::move(pending_);
    pending_ = Update{};
    pending_.done = u.done;  // stays done (and a second take says so again)
    pending_.finish_reason = u.finish_reason;
    pending_.stop_sequence = u.stop_sequence;
    pending_.error = u.error;
    return u;
  }
  void cancel() { cancelled_.store(true); }
  Usage usage() const {
    std::lock_guard<std::mutex> lock(mu_);
    return usage_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Update pending_;
  Usage usage_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace dllm::serve
