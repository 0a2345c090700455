// A stalled test with $BENCH_THREADS threads (default 1000) blocked on one
// mutex the test body holds. Prints "start <CLOCK_MONOTONIC ns>" when the
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
  usleep(200000);  // let them reach the lock
  printf("ready\nrss_threads_kib %ld\n", RssKiB());
  fflush(stdout);
  for (;;) pause();
}

}  // namespace
