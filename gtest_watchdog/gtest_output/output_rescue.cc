#include "gtest_watchdog/gtest_output/output_rescue.h"

#include <limits.h>
#include <stdio.h>  // rename (signal-safe, POSIX)
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "gtest_watchdog/base/raw_writer.h"

namespace gtest_watchdog_internal {
namespace {

// 0: idle, 1: armed, 2: taken (by a rescue or the disarm). The paths are
// written only while idle, before the release store that arms.
std::atomic<int> g_state{0};
char g_minimal[PATH_MAX];
char g_output[PATH_MAX];

bool CopyPath(char* to, const char* from) {
  const size_t n = strlen(from);
  if (n == 0 || n >= PATH_MAX) return false;
  memcpy(to, from, n + 1);
  return true;
}

}  // namespace

bool ArmOutputRescue(const char* minimal_path, const char* output_path) {
  if (g_state.load(std::memory_order_acquire) != 0) return false;
  if (!CopyPath(g_minimal, minimal_path) || !CopyPath(g_output, output_path)) {
    return false;
  }
  g_state.store(1, std::memory_order_release);
  return true;
}

bool DisarmOutputRescue() {
  int armed = 1;
  if (g_state.compare_exchange_strong(armed, 0)) return true;
  return armed == 0;
}

bool OutputRescueArmed() {
  return g_state.load(std::memory_order_acquire) == 1;
}

void RescueOutput(int fd, const char* cause, const char* cause_detail) {
  int armed = 1;
  if (!g_state.compare_exchange_strong(armed, 2)) return;
  RawWriter w(fd);
  w.Str("[ OUTPUT   ] ").Escaped(g_output);
  w.Str(": GoogleTest's output generator ").Str(cause).Str(cause_detail);
  if (rename(g_minimal, g_output) == 0) {
    w.Str(
        "; a minimal file with only this failure is there instead (the "
        "other tests' results are not in it)\n");
  } else {
    unlink(g_minimal);
    // Never leave what the generator half wrote, nor an older file.
    const bool removed = unlink(g_output) == 0;
    w.Str(removed ? "; the file it left was removed: there is no output file\n"
                  : "; the file may be incomplete\n");
  }
}

}  // namespace gtest_watchdog_internal
