// A stalled test with $BENCH_THREADS threads (default 1000) blocked on one
// mutex the test body holds, and $BENCH_WORKERS threads (default 0) that
// compute meanwhile, so that the report takes its extra stack samples. Prints "start <CLOCK_MONOTONIC ns>" when the
// test body begins and "ready" once every thread is blocked, so the driver
// can time the report from the deadline, or attach gdb/eu-stack. Also prints
// its resident memory at start and once the threads exist.
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace {

long RssKiB() {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f != nullptr && fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, "VmRSS:", 6) == 0) kib = atol(line + 6);
  }
  if (f != nullptr) fclose(f);
  return kib;
}

__attribute__((noinline)) void WaitForTheLock(std::mutex* m) {
  std::lock_guard<std::mutex> lock(*m);
}

std::atomic<unsigned long> g_sink{0};

// Work at varying depths: successive samples land in different spots.
__attribute__((noinline)) unsigned long Work(unsigned long x, int depth) {
  if (depth == 0) {
    for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005UL + 1;
    return x;
  }
  const unsigned long y = Work(x + 1, depth - 1);
  g_sink.fetch_add(y & 1, std::memory_order_relaxed);
  return y;
}

void Compute(int id) {
  unsigned long x = static_cast<unsigned long>(id);
  for (int i = 0;; ++i) x = Work(x, (i + id) % 7);
}

TEST(Bench, BlockedThreads) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  printf("start %lld\nrss_start_kib %ld\n",
         static_cast<long long>(ts.tv_sec) * 1000000000 + ts.tv_nsec, RssKiB());
  fflush(stdout);
  const char* n = std::getenv("BENCH_THREADS");
  const int count = n != nullptr ? std::atoi(n) : 1000;
  std::mutex m;
  std::unique_lock<std::mutex> hold(m);
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) threads.emplace_back(WaitForTheLock, &m);
  const char* w = std::getenv("BENCH_WORKERS");
  const int workers = w != nullptr ? std::atoi(w) : 0;
  for (int i = 0; i < workers; ++i) threads.emplace_back(Compute, i);
  usleep(200000);  // let them reach the lock
  printf("ready\nrss_threads_kib %ld\n", RssKiB());
  fflush(stdout);
  for (;;) pause();
}

}  // namespace
