// ThreadPool: every job reaches every thread once with its index, ranges are
// covered exactly once, thousands of back-to-back jobs (the spinning path) and
// jobs after the workers went to sleep (the condition-variable path) all run,
// and a pool is destroyed cleanly while idle.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "util/thread_pool.h"

namespace dllm {
namespace {

TEST(ThreadPool, RunCallsEveryThreadOnce) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    ASSERT_EQ(pool.size(), n);
    std::vector<std::atomic<int>> calls(static_cast<size_t>(n));
    std::atomic<int> bad_nth{0};
    pool.run([&](int ith, int nth) {
      if (nth != n) bad_nth.fetch_add(1);
      calls[size_t(ith)].fetch_add(1);
    });
    EXPECT_EQ(bad_nth.load(), 0);
    for (int i = 0; i < n; ++i) EXPECT_EQ(calls[size_t(i)].load(), 1) << "thread " << i;
  }
}

TEST(ThreadPool, ParallelForCoversTheRangeOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 3, 7, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      EXPECT_LT(b, e);
      for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[size_t(i)].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPool, BackToBackJobs) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int j = 0; j < 20000; ++j) pool.run([&](int ith, int) { sum.fetch_add(ith + 1); });
  EXPECT_EQ(sum.load(), 20000 * 3);
}

TEST(ThreadPool, JobsAfterTheWorkersSlept) {
  ThreadPool pool(3);
  std::atomic<int> count{0};
  for (int round = 0; round < 3; ++round) {
    // Long enough for the spin phase to end and the workers to block.
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    pool.run([&](int, int) { count.fetch_add(1); });
    EXPECT_EQ(count.load(), 3 * (round + 1));
  }
}

TEST(ThreadPool, DestroyedWhileIdle) {
  for (int i = 0; i < 20; ++i) {
    ThreadPool pool(4);
    if (i % 2) pool.run([](int, int) {});
  }
  SUCCEED();
}

}  // namespace
}  // namespace dllm
