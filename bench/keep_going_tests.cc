// Tests for the keep-going benchmarks (bench/run.py, keep_going()), linked
// with gtest_watchdog_main:
// - Many/Hangs.Forever/N ($BENCH_HANGS, default 1000): each blocks for good,
//   so with keep going every one stalls and a fresh child runs the next;
// - Many/Dies.Now/N ($BENCH_DEATHS, default 100): each SIGKILLs its child at
//   once, so the driver can time a child's end to the next test's start.
// With $BENCH_TIMES set, each test appends "start <ns>" (and Dies, "end <ns>"
// just before the kill) to that file, CLOCK_MONOTONIC, one write(2) a line
// so that lines from successive children never interleave.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {
int Count(const char* variable, int fallback) {
  const char* n = std::getenv(variable);
  return n != nullptr ? std::atoi(n) : fallback;
}

void Stamp(const char* what) {
  const char* path = std::getenv("BENCH_TIMES");
  if (path == nullptr) return;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  char line[64];
  const int n = std::snprintf(line, sizeof line, "%s %lld\n", what,
                              now.tv_sec * 1000000000LL + now.tv_nsec);
  const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, line, static_cast<size_t>(n)) != n) std::perror(path);
  close(fd);
}
}  // namespace

class Hangs : public testing::TestWithParam<int> {};
TEST_P(Hangs, Forever) {
  Stamp("start");
  for (;;) pause();
}
INSTANTIATE_TEST_SUITE_P(Many, Hangs,
                         testing::Range(0, Count("BENCH_HANGS", 1000)));

class Dies : public testing::TestWithParam<int> {};
TEST_P(Dies, Now) {
  Stamp("start");
  Stamp("end");
  raise(SIGKILL);
}
INSTANTIATE_TEST_SUITE_P(Many, Dies,
                         testing::Range(0, Count("BENCH_DEATHS", 100)));
