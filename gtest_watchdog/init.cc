// InitGoogleTest: flags first, then GoogleTest, then the watchdog.

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "gtest_watchdog/config/options.h"
#include "gtest_watchdog/gtest_watchdog.h"
#include "gtest_watchdog/report/raw_writer.h"
#include "gtest_watchdog/report/stall_reporter.h"
#include "gtest_watchdog/watch/deadline_board.h"
#include "gtest_watchdog/watch/listener.h"
#include "gtest_watchdog/watch/watchdog.h"

namespace gtest_watchdog {
namespace {

namespace wi = ::gtest_watchdog_internal;

[[noreturn]] void FailStartup(const std::string& message) {
  const std::string line = "gtest_watchdog: " + message + "\n";
  wi::WriteAll(2, line.data(), line.size());
  std::exit(2);
}

void Install(const wi::Options& options) {
  static bool installed = false;
  if (installed) return;
  installed = true;
  // A threadsafe-style death test child runs one statement for its parent,
  // which is already watching the whole test: no second watchdog.
  if (!GTEST_FLAG_GET(internal_run_death_test).empty()) return;
  const int64_t limit_ns = absl::ToInt64Nanoseconds(options.timeout);
  if (limit_ns <= 0) return;  // switched off

  // Never destroyed: the watchdog thread outlives static destruction. Held
  // by static pointers so leak checkers see them as reachable.
  static std::string* origin = nullptr;
  static wi::DeadlineBoard* board = nullptr;
  static wi::Watchdog* watchdog = nullptr;
  origin = new std::string(options.timeout_origin);
  wi::StallPathSettings settings;
  settings.limit_origin = origin->c_str();
  if (!wi::StallReporter::Prepare(settings)) {
    const char msg[] =
        "gtest_watchdog: no free real-time signal; stall reports will list "
        "threads without their stacks\n";
    wi::WriteAll(2, msg, sizeof(msg) - 1);
  }
  wi::StallReporter::SetTestThread(static_cast<pid_t>(syscall(SYS_gettid)));
  board = new wi::DeadlineBoard;
  watchdog =
      new wi::Watchdog(board, limit_ns, &wi::StallReporter::ReportAndAbort,
                       &wi::StallReporter::AttachWatchdogThread);
  watchdog->Start();
  testing::UnitTest::GetInstance()->listeners().Append(
      new wi::WatchdogListener(board, limit_ns, origin->c_str()));
}

}  // namespace

void InitGoogleTest(int* argc, char** argv) {
  wi::Options options;
  std::string error;
  if (!wi::ExtractOptions(
          argc, argv,
          [](const char* name) -> const char* { return std::getenv(name); },
          &options, &error)) {
    FailStartup(error);
  }
  testing::InitGoogleTest(argc, argv);
  Install(options);
}

}  // namespace gtest_watchdog
