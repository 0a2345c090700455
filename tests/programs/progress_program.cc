// Slow tests that are not stuck, and stuck tests that look busy: the
// evidence over time (docs/verdict.md). Workers that really compute move
// through different stacks between the report's samples; a poll that never
// ends wakes up in one spot. Run by tests/integration/progress_test with
// --gtest_filter=Progress.<Name> and a short limit.
// `// @block:NAME` marks where a thread waits or works.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<uint64_t> g_sink{0};

// Real work in a few functions at varying depths, so that successive
// stack samples of a worker land in different spots.
__attribute__((noinline)) uint64_t Mix(uint64_t x, int rounds) {
  for (int i = 0; i < rounds; ++i)
    x = x * 6364136223846793005u + 1442695040888963407u;
  return x;
}

__attribute__((noinline)) uint64_t Descend(uint64_t x, int depth) {
  if (depth == 0) return Mix(x, 200000);  // @block:mix
  const uint64_t y = Descend(x + 1, depth - 1);
  g_sink.fetch_add(y & 1, std::memory_order_relaxed);
  return y;
}

void Worker(int id) {
  uint64_t x = static_cast<uint64_t>(id);
  for (int i = 0; !g_stop.load(std::memory_order_relaxed); ++i) {
    x = Descend(x, (i + id) % 9);  // @block:work
  }
  g_sink.fetch_add(x, std::memory_order_relaxed);
}

std::vector<std::thread> StartWorkers(int n) {
  std::vector<std::thread> workers;
  for (int i = 0; i < n; ++i) workers.emplace_back(Worker, i);
  return workers;
}

// The shape of leveldb's DBTest.MultiThreaded: the test thread sleeps for
// the test's duration while workers do the work.
TEST(Progress, SleepWhileWorkersWork) {
  std::vector<std::thread> workers = StartWorkers(2);
  std::this_thread::sleep_for(std::chrono::seconds(60));  // @block:long_sleep
  g_stop = true;
  for (std::thread& t : workers) t.join();
}

// Joining a worker that computes for a long time.
TEST(Progress, JoinAWorkerThatWorks) {
  std::thread worker(Worker, 3);
  worker.join();  // @block:join_worker
}

// A condition the workers would signal when done.
std::mutex g_mutex;
std::condition_variable g_cv;
bool g_done = false;

TEST(Progress, ConditionWhileWorkersWork) {
  std::vector<std::thread> workers = StartWorkers(2);
  std::unique_lock<std::mutex> lock(g_mutex);
  g_cv.wait(lock, [] { return g_done; });  // @block:cv_workers
  lock.unlock();
  g_stop = true;
  for (std::thread& t : workers) t.join();
}

// `while (!done) cv.wait_for(20ms)` with nothing that could set done: a
// poll that never ends. Still a hang.
TEST(Progress, PollThatNeverEnds) {
  std::unique_lock<std::mutex> lock(g_mutex);
  while (!g_done) {
    g_cv.wait_for(lock, std::chrono::milliseconds(20));  // @block:poll
  }
}

// The same poll while a worker works: it polls for that work.
TEST(Progress, PollWhileAWorkerWorks) {
  std::thread worker(Worker, 5);
  {
    std::unique_lock<std::mutex> lock(g_mutex);
    while (!g_done) {
      g_cv.wait_for(lock, std::chrono::milliseconds(20));  // @block:poll_worker
    }
  }
  g_stop = true;
  worker.join();
}

// One long sleep, within reach of the limit: the test may still finish
// when it ends.
TEST(Progress, OneLongSleep) {
  std::this_thread::sleep_for(std::chrono::seconds(8));  // @block:one_sleep
}

}  // namespace
