#include "gtest_watchdog/report/report_helper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest_watchdog/report/raw_writer.h"
#include "gtest_watchdog/report/report_formatter.h"
#include "gtest_watchdog/report/snapshot.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

int RunReportHelper(int fd, int out_fd) {
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  Snapshot snap;
  std::string error;
  if (!ParseSnapshot(text, &snap, &error)) {
    const std::string msg = "[ WATCHDOG ] report helper: " + error + "\n";
    WriteAll(out_fd, msg.data(), msg.size());
    return 3;
  }
  std::unique_ptr<Symbolizer> symbolizer =
      Symbolizer::ForProcess(snap.pid, &error);
  if (symbolizer == nullptr) {
    const std::string msg = "[ WATCHDOG ] report helper: " + error + "\n";
    WriteAll(out_fd, msg.data(), msg.size());
    return 4;
  }
  const std::string report =
      FormatReport(snap, [&](uint64_t pc) -> const std::vector<SourceFrame>& {
        return symbolizer->Symbolize(pc);
      });
  return WriteAll(out_fd, report.data(), report.size()) ? 0 : 5;
}

bool ReportHelperLinked() { return true; }

namespace {

// Runs before main() and, with priority 101, before the program's own
// static initialisers in this executable. glibc passes argc/argv to
// .init_array functions.
__attribute__((constructor(101))) void InterceptReportHelper(int argc,
                                                             char** argv,
                                                             char**) {
  if (argc != 2 || argv == nullptr || argv[1] == nullptr) return;
  const size_t n = sizeof(kReportHelperFlag) - 1;
  if (strncmp(argv[1], kReportHelperFlag, n) != 0 || argv[1][n] != '=') return;
  const int fd = atoi(argv[1] + n + 1);
  // Never outlive the stalled process (its dead-man timer may end it).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  _exit(RunReportHelper(fd, 2));
}

}  // namespace
}  // namespace gtest_watchdog_internal
