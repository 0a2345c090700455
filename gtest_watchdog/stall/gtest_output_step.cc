#include "gtest_watchdog/stall/gtest_output_step.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/gtest_output/after_stall.h"
#include "gtest_watchdog/stall/exit_guard.h"
#include "gtest_watchdog/stall/fallback_report.h"
#include "gtest_watchdog/stall/stall_state.h"
#include "gtest_watchdog/watch/keep_going_page.h"

namespace gtest_watchdog_internal {
namespace {

// Static: 64 KiB is too big for a stack, and only the watchdog thread
// reports, once per process.
char g_message[64 * 1024];
size_t g_message_len = 0;

// The failure message into g_message: the one the helper left in the
// message memfd; without it, the fallback report's headline and verdict
// lines (the helper failed), or the headline alone. Signal-safe.
void BuildFailureMessage(const SnapshotHeader& header, bool helper_ok) {
  char* const message = g_message;
  const size_t capacity = sizeof(g_message);
  size_t len = 0;
  if (helper_ok && g_stall.message_fd >= 0 &&
      lseek(g_stall.message_fd, 0, SEEK_SET) == 0) {
    for (;;) {
      const ssize_t n =
          read(g_stall.message_fd, message + len, capacity - 1 - len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      len += static_cast<size_t>(n);
    }
  }
  size_t fallback_len = 0;
  const char* fallback = FallbackFailureMessage(&fallback_len);
  if (len == 0 && fallback != nullptr) {
    len = fallback_len < capacity - 1 ? fallback_len : capacity - 1;
    memcpy(message, fallback, len);
  }
  if (len == 0) {
    RawWriter h(-1);
    WriteHeadline(h, header);
    len = h.size() < capacity - 1 ? h.size() : capacity - 1;
    memcpy(message, h.data(), len);
  }
  message[len] = '\0';
  g_message_len = len;
}

// GoogleTest's XML/JSON output, if one was requested, failing what
// stalled with g_message.
// Allocates (GoogleTest's printers): runs last, under the dead-man timer.
void WriteGoogleTestOutput(const SnapshotHeader& header) {
  if (!GtestOutputRequested()) return;  // nothing to allocate for
    // GoogleTest's printers allocate: with the address space exhausted that
    // throws, and the report is out already. Say so; never terminate here. A
    // program built with -fno-exceptions cannot catch: operator new then ends
    // it, as it would anywhere, with the report complete.
#if defined(__cpp_exceptions)
  try {
#endif
    const GtestOutputWritten written =
        WriteGtestOutputAfterStall(std::string(g_message, g_message_len));
    const char* what = header.signal.signo == 0            ? "stalled"
                       : strcmp(header.kind, "crash") == 0 ? "crashed"
                                                           : "interrupted";
    const char* where = header.test_name[0] != '\0' ? "test" : "phase";
    RawWriter w(g_stall.stderr_fd);
    if (written.kind == GtestOutputWritten::Kind::kComplete) {
      w.Str("[ OUTPUT   ] ")
          .Escaped(written.path.c_str())
          .Str(" written, with the ")
          .Str(what)
          .Char(' ')
          .Str(where)
          .Str(" failed\n");
    } else if (written.kind == GtestOutputWritten::Kind::kMinimal) {
      w.Str("[ OUTPUT   ] ")
          .Escaped(written.path.c_str())
          .Str(": GoogleTest's output generator ")
          .Str(written.why.c_str())
          .Str("; a minimal file with only the ")
          .Str(what)
          .Char(' ')
          .Str(where)
          .Str(
              "'s failure is there instead (the other tests' results are "
              "not in it)\n");
    }
#if defined(__cpp_exceptions)
  } catch (...) {
    RawWriter w(g_stall.stderr_fd);
    w.Str(
        "[ WATCHDOG ] could not write GoogleTest's output file (out of "
        "memory?)\n");
  }
#endif
}

}  // namespace

void WriteGtestOutputStep(const SnapshotHeader& header, bool write_output,
                          bool helper_ok) {
  KeepGoingPage* const page = ChildPage();
  if (page != nullptr || GtestOutputRequested()) {
    BuildFailureMessage(header, helper_ok);
  }
  // A test child of a keep-going run: the supervisor fails the test with
  // this message, whatever happens to this process next.
  if (page != nullptr) {
    PageKeepMessage(page, g_message, g_message_len,
                    header.signal.signo == 0 ? 1 : 2);
  }
  // Only if the test program is still where the report found it: a phase
  // that ended just as its limit passed must not be failed in the file.
  // Never once exit() has begun: GoogleTest's results are being destroyed.
  if (write_output && ExitStarted()) {
    if (GtestOutputRequested()) {
      RawWriter w(g_stall.stderr_fd);
      w.Str(
           "[ WATCHDOG ] GoogleTest's output file is not written: the program "
           "was already exiting, and GoogleTest's results are destroyed with "
           "its static objects")
          .Str(StaleOutputNote(RemoveStaleGtestOutput()))
          .Str("\n");
    }
  } else if (write_output) {
    WriteGoogleTestOutput(header);
  } else if (GtestOutputRequested()) {
    RawWriter w(g_stall.stderr_fd);
    w.Str(
         "[ WATCHDOG ] GoogleTest's output file is not written: the test "
         "program moved on while the report was taken")
        .Str(StaleOutputNote(RemoveStaleGtestOutput()))
        .Str("\n");
  }
}

}  // namespace gtest_watchdog_internal
