// Helpers shared by the test programs under tests/programs (header-only:
// each program is its own executable).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

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

}  // namespace gtest_watchdog_test_programs
