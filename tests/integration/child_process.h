// Runs a program as a child process and captures how it ended: its stdout,
// its stderr, exit status or signal, and wall time. Used by the integration
// tests to judge programs that really stall.
#pragma once

#include <signal.h>

#include <string>
#include <utility>
#include <vector>

namespace gtest_watchdog_test {

// The sanitizer this harness (and every program it runs: CI builds all
// alike) was built with.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
// AddressSanitizer and ThreadSanitizer own SIGSEGV, SIGBUS and SIGFPE
// (handle_segv and friends): their handler was there first and gets the
// signal after our report, prints its own and exits with its exit code.
inline constexpr bool kSanitizerOwnsFaults = kAsan || kTsan;
inline constexpr int kSanitizerExitCode = kTsan ? 66 : kAsan ? 1 : 0;
inline constexpr const char* kSanitizerName = kTsan   ? "ThreadSanitizer"
                                              : kAsan ? "AddressSanitizer"
                                                      : "";

// How much later than its limit a child may end: generous, for shared,
// noisy machines. The point is "ends soon after the limit", not a
// performance figure.
inline constexpr double kSlack = 20.0;

struct ChildResult {
  std::string out;  // stdout
  std::string err;  // stderr
  bool signaled = false;
  int signal = 0;
  int exit_code = -1;
  bool killed_by_harness = false;  // ran past the harness's own limit
  double seconds = 0;
};

// Runs argv[0] with argv, the current environment plus `env` (NAME=VALUE
// entries override; "NAME" alone removes the variable). Kills the child
// after `kill_after_s`.
// With `read_stderr` false, the child's stderr is a pipe that is never read
// (for tests of a blocked report).
ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::string>& env = {},
                     double kill_after_s = 60, bool read_stderr = true);

// As RunChild, and sends `signo` to the child (not its group) once its
// stderr contains `marker`: a signal that arrives while the test is
// where the marker says, with no sleep to guess when that is.
ChildResult RunChildAndSignal(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env,
                              const std::string& marker, int signo,
                              double kill_after_s = 60);

// As RunChild, but what the child leaves behind is not killed when it
// ends: the run ends when its stdout and stderr close (or at the harness's
// limit), and only then is its process group killed. For tests that nothing
// the watchdog starts outlives the program.
ChildResult RunChildUntilPipesClose(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env,
                                    double kill_after_s);

// The 1-based line of `source` holding the marker `// @block:NAME`, or 0.
int MarkerLine(const std::string& source, const std::string& name);

// "FILE:LINE" as a report shows the marker's line (FILE: the base name of
// `source`); a failed expectation if the marker is missing.
std::string MarkerLocation(const std::string& source, const std::string& name);

// The markers of one test program's source, for file:line checks. Each
// test file names its program's source once,
//   constexpr SourceMarkers Where(CRASH_SOURCE);
// and Where("null_write") is MarkerLocation(CRASH_SOURCE, "null_write").
class SourceMarkers {
 public:
  constexpr explicit SourceMarkers(const char* source) : source_(source) {}
  std::string operator()(const std::string& name) const {
    return MarkerLocation(source_, name);
  }

 private:
  const char* source_;
};

// Ended by the watchdog's abort soon after the limit `limit_s`, the report
// complete (its closing line is written last) and symbolized.
void ExpectAbortedPromptly(const ChildResult& r, double limit_s);

// Ended within `within_s` by `sig` after a crash report, as it would have
// without the watchdog; when a sanitizer owns the signal (SIGSEGV, SIGBUS,
// SIGFPE), by the sanitizer's exit code.
void ExpectCrashEndedBy(const ChildResult& r, int sig, double within_s);

// A report that could not be written (stderr full) was ended by the
// dead-man timer: 30 s, then its backstop 2 s later, well before the
// harness's limit; by SIGABRT, or any signal when `signo` is 0.
void ExpectEndedByTheDeadMan(const ChildResult& r, int signo = SIGABRT);

// The whole content of the file at `path` ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// `text` split at newlines (no empty last line).
std::vector<std::string> Lines(const std::string& text);

// The first "Thread TID ..." header line of a report that contains `what`;
// "" without one.
std::string ThreadHeader(const std::string& err, const std::string& what);

// The tid in the report's header line `Thread TID "name"`, or "".
std::string TidOf(const std::string& err, const std::string& name);

// The "[ VERDICT  ]" line of a report with its continuation lines (13
// spaces) joined back by single spaces; "" without one.
std::string JoinedVerdict(const std::string& err);

// Runs `program --gtest_filter=FILTER --gtest_watchdog_timeout=LIMITs`,
// a test that stalls: expects the watchdog's abort (SIGABRT) after the limit
// and well before the harness's.
ChildResult RunStalling(const std::string& program, const std::string& filter,
                        int limit_s = 1);

// A path in GoogleTest's temporary directory, PREFIX_NAME_<our pid>, with
// nothing there (removed if an earlier run left it).
std::string TempPath(const std::string& prefix, const std::string& name);

// Whether `pid` still runs: gone, a zombie or dead ("Z", "X") is not.
bool ProcessRunning(int pid);

// Whether `pid` stops running within `seconds`: a killed process takes a
// moment to die, longer on a loaded machine.
bool StopsRunningWithin(int pid, double seconds);

// Whether python3 was found (CMake's PYTHON3): the output checkers need it.
bool HavePython();

// tests/integration/check_gtest_output.py's SPECs hold for the GoogleTest
// XML/JSON output `file` (a failed expectation otherwise).
void ExpectGtestOutput(const std::string& file,
                       const std::vector<std::string>& specs);

}  // namespace gtest_watchdog_test
