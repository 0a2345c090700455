// Runs a program as a child process and captures how it ended: its stdout,
// its stderr, exit status or signal, and wall time. Used by the integration
// tests to judge programs that really stall.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gtest_watchdog_test {

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

}  // namespace gtest_watchdog_test
