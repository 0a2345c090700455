#include "gtest_watchdog/stall/exit_guard.h"

#include <unistd.h>

#include <atomic>
#include <cstring>

#include "gtest/gtest.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/stall/stall_state.h"

namespace gtest_watchdog_internal {
namespace {

std::atomic<bool> g_exiting{false};
// Set once a report is out: see MarkReportDone.
std::atomic<bool> g_report_done{false};
const void* g_exit_subject = nullptr;
char g_exit_test[1024];
char g_exit_suite[512];

// Signal-safe: no allocation, no lock.
void CopyName(char* to, size_t capacity, const char* from, size_t n) {
  if (n > capacity - 1) n = capacity - 1;
  memcpy(to, from, n);
  to[n] = '\0';
}

}  // namespace

bool ExitStarted() { return g_exiting.load(std::memory_order_acquire); }

void MarkReportDone() { g_report_done.store(true); }

void DescribeSubject(const ArmedPhase& a, char (&test)[1024],
                     char (&suite)[512]) {
  if (ExitStarted()) {
    const bool same = a.subject != nullptr && a.subject == g_exit_subject;
    CopyName(test, sizeof(test), g_exit_test, same ? strlen(g_exit_test) : 0);
    CopyName(suite, sizeof(suite), g_exit_suite,
             same ? strlen(g_exit_suite) : 0);
    return;
  }
  RawWriter t(-1), s(-1);
  if (a.phase == Phase::kTest && a.subject != nullptr) {
    const auto* info = static_cast<const testing::TestInfo*>(a.subject);
    t.Str(info->test_suite_name()).Char('.').Str(info->name());
    s.Str(info->test_suite_name());
  } else if ((a.phase == Phase::kTestSuiteSetUp ||
              a.phase == Phase::kTestSuiteTearDown) &&
             a.subject != nullptr) {
    s.Str(static_cast<const testing::TestSuite*>(a.subject)->name());
  }
  CopyName(test, sizeof(test), t.data(), t.size());
  CopyName(suite, sizeof(suite), s.data(), s.size());
}

void OnExitStarts() {
  DeadlineBoard* board = InstalledBoard();
  if (board == nullptr || getpid() != g_stall.pid) return;  // a forked child
  if (board->frozen() && !g_report_done.load()) ParkForever();
  const ArmedPhase now = board->Read();
  DescribeSubject(now, g_exit_test, g_exit_suite);
  g_exit_subject = now.subject;
  g_exiting.store(true, std::memory_order_release);
}

}  // namespace gtest_watchdog_internal
