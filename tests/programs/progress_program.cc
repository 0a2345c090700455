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

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "progress_wrapper.h"

namespace {

using namespace std::chrono_literals;

std::atomic<bool> g_stop{false};
std::atomic<uint64_t> g_sink{0};

// Real work in a few functions at varying depths, so that successive
// stack samples of a worker land in different spots. The path through
// Descend is a hash of the turn, not the turn itself: a periodic path could
// line up with the samples' 25 ms gap and show one spot in every sample.
__attribute__((noinline)) uint64_t Mix(uint64_t x, int rounds) {
  for (int i = 0; i < rounds; ++i)
    x = x * 6364136223846793005u + 1442695040888963407u;
  return x;
}

// Each level recurses from one of two lines (the path's low bit): 2^depth
// different stacks at each depth.
__attribute__((noinline)) uint64_t Descend(uint64_t x, int depth,
                                           uint32_t path) {
  if (depth == 0) return Mix(x, 200000);  // @block:mix
  uint64_t y;
  if ((path & 1) != 0) {
    y = Descend(x + 1, depth - 1, path >> 1);
    g_sink.fetch_add(y & 1, std::memory_order_relaxed);
  } else {
    y = Descend(x + 3, depth - 1, path >> 1);
    g_sink.fetch_sub(y & 1, std::memory_order_relaxed);
  }
  return y;
}

// One turn of work: a depth of 0 to 16 and a path, from a hash of the turn.
uint64_t Turn(uint64_t x, int id, uint32_t turn) {
  const uint32_t h = (turn + static_cast<uint32_t>(id) * 7919u) * 2654435761u;
  return Descend(x, static_cast<int>((h >> 27) % 17), h >> 5);
}

void Worker(int id) {
  uint64_t x = static_cast<uint64_t>(id);
  for (uint32_t i = 0; !g_stop.load(std::memory_order_relaxed); ++i) {
    x = Turn(x, id, i);  // @block:work
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

// A crunch in the test's own thread, through functions of varying depth.
TEST(Progress, CrunchInTheTestThread) {
  Worker(7);  // @block:crunch
}

// A spin loop through a lock wrapper inlined from a header: it takes and
// releases the lock every turn and waits for a count that never comes.
progress::Mutex g_count_mutex;
int g_count = 4;

TEST(Progress, SpinThroughALockWrapper) {
  int seen = 0;
  while (seen != 5) {
    g_count_mutex.Lock();  // @block:spin_lock
    seen = g_count;
    g_count_mutex.Unlock();
  }
}

// A sleep-poll slower than the CPU window: `while (!done) sleep 130 ms`,
// and the worker that would set done has gone. The window sees at most one
// wake-up.
std::atomic<bool> g_worker_done{false};

TEST(Progress, SleepPollForAWorkerThatLeft) {
  std::thread([] {}).join();  // forgets to set g_worker_done
  while (!g_worker_done.load()) {
    std::this_thread::sleep_for(130ms);  // @block:sleep_poll
  }
}

// The test waits on a condition for a background job; the job polls a flag
// nobody clears.
std::atomic<bool> g_job_blocked{true};

void PollingJob() {
  while (g_job_blocked.load()) {
    std::this_thread::sleep_for(10ms);  // @block:job_poll
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  g_done = true;
  g_cv.notify_all();
}

TEST(Progress, WaitForAPollingJob) {
  std::thread job(PollingJob);
  {
    std::unique_lock<std::mutex> lock(g_mutex);
    g_cv.wait(lock, [] { return g_done; });  // @block:wait_job
  }
  job.join();
}

// A lost notify through the header's wrapper: the task returns without
// signalling; the test's loop waits for ever.
progress::Mutex g_task_mutex;
progress::CondVar g_task_cv(&g_task_mutex);
bool g_task_called = false;

TEST(Progress, LostNotifyThroughAWrapper) {
  std::thread task([] {});  // returns early: no flag, no Signal()
  task.join();
  g_task_mutex.Lock();
  while (!g_task_called) g_task_cv.Wait();  // @block:lost_notify
  g_task_mutex.Unlock();
}

// The test waits on a condition for a job; the job waits on another
// condition nobody signals. Both wait for a notify nothing is left to send.
std::mutex g_job_mutex;
std::condition_variable g_job_input_cv;
bool g_job_has_input = false;

void JobWaitingForInput() {
  std::unique_lock<std::mutex> lock(g_job_mutex);
  while (!g_job_has_input) g_job_input_cv.wait(lock);  // @block:job_input
  std::lock_guard<std::mutex> done(g_mutex);
  g_done = true;
  g_cv.notify_all();
}

TEST(Progress, WaitForAJobThatWaitsForInput) {
  std::thread job(JobWaitingForInput);
  {
    std::unique_lock<std::mutex> lock(g_mutex);
    g_cv.wait(lock, [] { return g_done; });  // @block:wait_input_job
  }
  job.join();
}

// Workers that share one absl::Mutex for their results (re2's
// Multithreaded.SearchDFA shape): each works, then takes the lock to
// publish; whichever the test joins is working or waiting for a worker.
absl::Mutex g_shared_mu;
uint64_t g_shared_state = 0;

void LockingWorker(int id) {
  uint64_t x = static_cast<uint64_t>(id);
  for (uint32_t i = 0; !g_stop.load(std::memory_order_relaxed); ++i) {
    x = Turn(x, id, i);
    absl::MutexLock lock(&g_shared_mu);  // @block:shared_lock
    g_shared_state ^= x;
  }
}

TEST(Progress, JoinWorkersThatShareALock) {
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) workers.emplace_back(LockingWorker, i);
  for (std::thread& t : workers) t.join();  // @block:join_lockers
}

}  // namespace
