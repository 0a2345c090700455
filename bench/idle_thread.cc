// For comparison only: plain GoogleTest plus one thread that sleeps for the
// whole run and does nothing else. Once a process has a second thread, glibc
// leaves its single-threaded fast paths (malloc's arena lock, stdio's
// stream locks, atomic reference counts in libstdc++), and GoogleTest's
// per-test bookkeeping pays for that on every test. Any in-process watchdog
// thread costs at least this much; this binary measures that floor.
#include <unistd.h>

#include <thread>

namespace {
const bool kStarted = [] {
  std::thread([] {
    for (;;) pause();
  }).detach();
  return true;
}();
}  // namespace
