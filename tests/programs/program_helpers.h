// Helpers shared by the test programs under tests/programs (header-only:
// each program is its own executable).
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace gtest_watchdog_test_programs {

// Fills stderr — a pipe nobody reads, in the harness — until a write would
// block, and leaves it blocking: every later write to fd 2 waits for ever.
inline void FillStderr() {
  const int flags = fcntl(2, F_GETFL);
  fcntl(2, F_SETFL, flags | O_NONBLOCK);
  char junk[4096];
  memset(junk, 'x', sizeof(junk));
  while (write(2, junk, sizeof(junk)) > 0) {
  }
  fcntl(2, F_SETFL, flags);
}

// The system call `tid` sits in ("202" = futex, "34" = pause), as
// /proc/self/task/TID/syscall says; "" if unreadable.
inline std::string SyscallOf(pid_t tid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
  char buf[32] = {};
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  const ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) return "";
  const char* space = strchr(buf, ' ');
  const size_t len = space != nullptr ? static_cast<size_t>(space - buf)
                                      : static_cast<size_t>(n);
  return std::string(buf, len);
}

// Waits (up to 10 s) until thread `tid` sleeps in the system call `nr`.
inline void WaitUntilIn(pid_t tid, const char* nr) {
  for (int i = 0; i < 10000 && SyscallOf(tid) != nr; ++i) usleep(1000);
}

// Sets RLIMIT_AS to what the process maps now plus `headroom` bytes. False
// if the current size or the limit cannot be read or set.
inline bool LimitAddressSpaceToCurrentPlus(rlim_t headroom) {
  long pages = 0;
  FILE* statm = fopen("/proc/self/statm", "r");
  if (statm == nullptr) return false;
  const bool read = fscanf(statm, "%ld", &pages) == 1;
  fclose(statm);
  rlimit limit;
  if (!read || getrlimit(RLIMIT_AS, &limit) != 0) return false;
  limit.rlim_cur = static_cast<rlim_t>(pages) * 4096 + headroom;
  return setrlimit(RLIMIT_AS, &limit) == 0;
}

}  // namespace gtest_watchdog_test_programs
