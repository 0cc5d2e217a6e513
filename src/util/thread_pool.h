// A persistent pool of worker threads created once; parallel_for splits a
// range into one contiguous chunk per thread (the caller is thread 0).
// Workers spin briefly, then sleep, between jobs.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dllm {

class ThreadPool {
 public:
  // n_threads <= 0: the number of hardware threads.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(ith, nth) once on each of the nth = size() threads and waits.
  void run(const std::function<void(int ith, int nth)>& fn);
  // Splits [0, n) into size() near-equal contiguous chunks (some may be empty)
  // and calls fn(begin, end) on each thread that got work.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

  static int default_threads();

 private:
  void worker(int ith);
  int n_threads_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
};

}  // namespace dllm
