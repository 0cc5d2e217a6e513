// The inference thread: N slots (sequences of one context), continuous
// batching, and the prompt cache. HTTP threads only submit jobs and read
// their output; everything that touches the context happens on the one
// thread this class starts.
//
// Each step decodes one batch holding the next token of every generating
// slot and a chunk of every prefilling slot (chunks end at checkpoint
// positions, so checkpoints are taken exactly there), then samples. New jobs
// join between steps, taking an idle slot chosen by the prompt cache.
#pragma once
#include <deltallm.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "serve/checkpoint_pool.h"
#include "serve/job.h"
#include "serve/metrics.h"

namespace dllm::serve {

struct EngineOptions {
  int n_slots = 1;
  int64_t n_ctx = 4096;           // positions per slot
  int n_batch = 512;              // tokens per step
  size_t max_queue = 64;
  uint64_t cache_bytes = 0;       // checkpoint budget
  int64_t checkpoint_every = 2048;
  double slot_similarity = 0.5;
  double timeout_s = 0;           // 0: none
  bool log_json = false;
};

class Engine {
 public:
  Engine(const deltallm_model* model, deltallm_context* ctx, const EngineOptions& opt, Metrics& metrics);
  ~Engine();

  // Queues a job (ApiError 503 when the queue is full or the server stops).
  void submit(const std::shared_ptr<Job>& job);
  // Ends every queued and running job with an error and stops the thread.
  void shutdown();
  // GET /slots: the state of each slot.
  nlohmann::json slots_json() const;
  const EngineOptions& options() const { return opt_; }

 private:
  struct Slot;
  void loop();
  void admit(std::unique_lock<std::mutex>& lock);
  int choose_slot(const Job& job, std::string* why);
  int64_t usable_prefix(Slot& s, const std::vector<int32_t>& prompt, int64_t* lcp);
  void start(Slot& s, std::shared_ptr<Job> job, const std::string& why);
  void step();
  void after_token(Slot& s, int row);
  void track_thinking(Slot& s, const std::string& piece);  // the reasoning budget
  void close_thinking(Slot& s);
  void finish(Slot& s, const std::string& reason, const std::string& error = {});
  void take_checkpoint(Slot& s);
  void publish();
  void log_request(const Slot& s, double seconds, const std::string& end);

  const deltallm_model* model_;
  deltallm_context* ctx_;
  EngineOptions opt_;
  Metrics& metrics_;
  int32_t n_vocab_ = 0;
  size_t ckpt_size_ = 0;
  CheckpointPool pool_;
  std::vector<std::unique_ptr<Slot>> slots_;
  uint64_t tick_ = 0;
  uint64_t next_id_ = 0;

  mutable std::mutex mu_;  // guards queue_, stopping_, busy_, published_
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  int busy_ = 0;              // slots running a request
  nlohmann::json published_;  // slots_json() answer, refreshed each step
  std::thread thread_;
};

}  // namespace dllm::serve
