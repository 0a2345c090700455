#include "gtest_watchdog/gtest_output/after_stall.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>  // rename
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/base/raise.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"
#include "gtest_watchdog/gtest_output/minimal_output.h"
#include "gtest_watchdog/gtest_output/output_rescue.h"

namespace gtest_watchdog_internal {
namespace {

// Records the tests started in the current iteration. TestResult cannot
// tell: --gtest_repeat clears results between iterations but keeps start
// timestamps. Runs on the test thread; the watchdog thread reads it while
// that thread is stuck.
class StartedTests : public testing::EmptyTestEventListener {
 public:
  explicit StartedTests(size_t capacity)
      : slots_(new const testing::TestInfo*[capacity]), capacity_(capacity) {}

  // Tests may be registered after InitGoogleTest (testing::RegisterTest):
  // the room is sized again at every iteration's start, before any test
  // runs. The old array is kept: a report may be reading it.
  void OnTestIterationStart(const testing::UnitTest& unit,
                            int iteration) override {
    const size_t total = static_cast<size_t>(unit.total_test_count());
    if (total > capacity_) {
      retired_.push_back(std::move(slots_));
      slots_.reset(new const testing::TestInfo*[total]);
      capacity_ = total;
    }
    iteration_.store(iteration, std::memory_order_relaxed);
    count_.store(0, std::memory_order_release);
  }

  // TestSuite::Run announces skipped tests (a failed SetUpTestSuite,
  // --gtest_fail_fast) with OnTestStart too: they count as started, and keep
  // GoogleTest's "skipped".
  void OnTestStart(const testing::TestInfo& test) override {
    const size_t n = count_.load(std::memory_order_relaxed);
    if (n < capacity_) {
      slots_[n] = &test;
      count_.store(n + 1, std::memory_order_release);
    } else {
      overflow_.store(true, std::memory_order_relaxed);
    }
  }

  // Sorted, for binary search. False if more tests started than were
  // registered at start-up (cannot happen with GoogleTest 1.12).
  bool Snapshot(std::vector<const testing::TestInfo*>* out) const {
    const size_t n = count_.load(std::memory_order_acquire);
    out->assign(slots_.get(), slots_.get() + n);
    std::sort(out->begin(), out->end());
    return !overflow_.load(std::memory_order_relaxed);
  }

  int iteration() const { return iteration_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<const testing::TestInfo*[]> slots_;
  std::vector<std::unique_ptr<const testing::TestInfo*[]>> retired_;
  size_t capacity_;
  std::atomic<size_t> count_{0};
  std::atomic<int> iteration_{0};
  std::atomic<bool> overflow_{false};
};

struct Prepared {
  bool json = false;
  std::string path;                 // absolute
  StartedTests* started = nullptr;  // owned by GoogleTest's listener list
  int stderr_fd = 2;  // the program's stderr at start-up (a close-on-exec copy)
  // The file at the path when the program started, if any: still the same
  // (device, inode, size, modification time) at a stall, it holds an
  // earlier run's results.
  bool had_file = false;
  struct stat old_file {};
};
Prepared* g_prepared = nullptr;  // never freed: read on the stall path

// "a//b/" -> "a/b/": GoogleTest's FilePath normalizes the same way.
std::string CollapseSlashes(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out += c;
  }
  return out;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return CollapseSlashes(dir + "/" + name);
}

// The file GoogleTest's generator writes to, by GoogleTest's documented
// rules: "xml" alone means test_detail.xml; a relative path is relative to
// the directory the program started in; a path ending in '/' is a directory
// in which the first free "PROGRAM.xml", "PROGRAM_1.xml", ... is used. The
// generator chose that name in InitGoogleTest, moments ago, and nothing has
// written since: the same search finds the same name.
std::string OutputPath(const std::string& flag, const std::string& format) {
  const std::string start_dir =
      testing::UnitTest::GetInstance()->original_working_dir();
  const size_t colon = flag.find(':');
  if (colon == std::string::npos) {
    return JoinPath(start_dir, "test_detail." + format);
  }
  std::string path = flag.substr(colon + 1);
  if (path.empty() || path[0] != '/') path = JoinPath(start_dir, path);
  path = CollapseSlashes(path);
  if (path.empty() || path.back() != '/') return path;
  std::string program = gtest_internals::ProgramName();
  program = program.substr(program.find_last_of('/') + 1);
  for (int n = 0;; ++n) {
    std::string candidate = absl::StrCat(
        path, program, n == 0 ? "" : absl::StrCat("_", n), ".", format);
    struct stat st;
    if (stat(candidate.c_str(), &st) != 0) return candidate;
  }
}

// GoogleTest aborts the process if it cannot open the file: find out first,
// creating missing directories as it would. Returns "" if the path is a
// regular file we may write or does not exist yet (the file is not created
// here: a generator that then failed would leave it empty), else why not.
// The path is not ours: a FIFO there would block an ordinary open until a
// reader comes (hanging the stall path until the dead-man fires), a symbolic
// link would send the output wherever it points. O_NONBLOCK makes a FIFO
// without a reader fail (ENXIO) and one with a reader open without waiting,
// O_NOFOLLOW refuses a link (ELOOP), and fstat must then say "regular
// file". Residual risk: GoogleTest's generator opens the path again itself,
// with a plain fopen (it follows links, blocks on a FIFO): someone who can
// replace the file between this check and that fopen still can. Allocates
// (the directory prefixes); no lock; not signal-safe.
std::string WhyNotWritable(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    mkdir(path.substr(0, slash).c_str(), 0777);  // EEXIST is fine
  }
  const int fd = open(
      path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return "";
    if (err == ELOOP) return "it is a symbolic link";
    if (err == ENXIO) return "it is a FIFO with no reader (not a regular file)";
    return absl::StrCat("cannot open it: ", strerror(err));
  }
  struct stat st;
  std::string why;
  if (fstat(fd, &st) != 0) {
    why = absl::StrCat("cannot stat it: ", strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
  }
  close(fd);
  return why;
}

// Writes all of `text` to g_prepared->stderr_fd, with write(2): no stdio,
// whose lock a stuck thread may hold. No allocation; no lock; signal-safe.
void SayOnStartupStderr(const std::string& text) {
  WriteAll(g_prepared->stderr_fd, text.data(), text.size());
}

// One line on the program's start-up stderr; an older file at the path is
// removed (and the line says so). Allocates; no lock; not signal-safe.
void SayNotWritten(const std::string& path, const std::string& why) {
  SayOnStartupStderr(
      absl::StrCat("[ WATCHDOG ] not writing GoogleTest's output file ", path,
                   ": ", why, StaleOutputNote(RemoveStaleGtestOutput()), "\n"));
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Restores GoogleTest's failure flags on scope exit.
class FailureFlagsCleared {
 public:
  FailureFlagsCleared()
      : throw_(GTEST_FLAG_GET(throw_on_failure)),
        break_(GTEST_FLAG_GET(break_on_failure)) {
    // Either would act on the watchdog thread: throw out of the stall path
    // (std::terminate) or trap (SIGTRAP instead of the report's SIGABRT).
    GTEST_FLAG_SET(throw_on_failure, false);
    GTEST_FLAG_SET(break_on_failure, false);
  }
  ~FailureFlagsCleared() {
    GTEST_FLAG_SET(throw_on_failure, throw_);
    GTEST_FLAG_SET(break_on_failure, break_);
  }
  FailureFlagsCleared(const FailureFlagsCleared&) = delete;
  FailureFlagsCleared& operator=(const FailureFlagsCleared&) = delete;

 private:
  const bool throw_;
  const bool break_;
};

// Adds the failure where GoogleTest puts a failure from any thread: through
// the global result reporter into the current test's result (else the
// current suite's, else the program's), and to every listener. The test's
// own location stands for where it stalled, which only the message knows.
void FailCurrent(const std::string& message, const testing::TestInfo* test,
                 const testing::TestSuite* suite) {
  {
    FailureFlagsCleared cleared;
    gtest_internals::ReportFatalFailure(
        test != nullptr ? test->file() : nullptr,
        test != nullptr ? test->line() : -1, message);
  }
  if (test != nullptr) {
    // A test stuck inside EXPECT_FATAL_FAILURE_ON_ALL_THREADS has the
    // global reporter swapped for a catcher: the failure went there.
    if (!test->result()->Failed()) {
      gtest_internals::AddFatalFailure(*test->result(), message);
    }
  } else if (suite != nullptr) {
    if (gtest_internals::SuiteFailuresInOutput()) {
      if (!suite->ad_hoc_test_result().Failed()) {
        gtest_internals::AddFatalFailure(suite->ad_hoc_test_result(), message);
      }
    } else {
      // Left out of the file by this GoogleTest: the program's own
      // failures appear, as a "NonTestSuiteFailure" suite.
      gtest_internals::AddFatalFailure(
          testing::UnitTest::GetInstance()->ad_hoc_test_result(), message);
    }
  }
}

// Tests that did not start in this iteration would be written as run and
// passed (status "run", no failure): make them "notrun", as GoogleTest
// writes disabled tests. Not counted as disabled.
void MarkNotStartedAsNotRun(const testing::UnitTest& unit,
                            const testing::TestInfo* current) {
  std::vector<const testing::TestInfo*> started;
  if (!g_prepared->started->Snapshot(&started)) return;
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const testing::TestInfo* test = suite.GetTestInfo(j);
      // The current test may be stuck in a listener's OnTestStart that runs
      // before ours.
      if (!test->should_run() || test == current ||
          std::binary_search(started.begin(), started.end(), test)) {
        continue;
      }
      gtest_internals::MarkNotRun(*test);
    }
  }
}

// The time so far, which GoogleTest sets only when a test or suite ends.
void SetElapsedSoFar(const testing::TestInfo* test,
                     const testing::TestSuite* suite) {
  if (test == nullptr) return;
  const int64_t now = NowMillis();
  const testing::TestResult& result = *test->result();
  if (result.start_timestamp() != 0) {
    gtest_internals::SetElapsed(result, now - result.start_timestamp());
  }
  if (suite != nullptr && suite->start_timestamp() != 0) {
    gtest_internals::SetElapsed(*suite, now - suite->start_timestamp());
  }
}

MinimalCase Describe(const testing::TestInfo* test,
                     const testing::TestSuite* suite,
                     const std::string& message) {
  MinimalCase c;
  if (test != nullptr) {
    c.suite = test->test_suite_name();
    c.test = test->name();
    if (test->result()->start_timestamp() != 0) {
      c.seconds =
          static_cast<double>(NowMillis() - test->result()->start_timestamp()) /
          1000.0;
    }
  } else if (suite != nullptr) {
    c.suite = suite->name();
  } else {
    c.suite = "NonTestSuiteFailure";
  }
  c.message = message;
  c.summary = message.substr(0, message.find("\nStack trace:\n"));
  return c;
}

// Creates `path` (which must not exist) holding `text`. Returns "" or why
// not. Allocates; no lock; not signal-safe.
std::string WriteNewFile(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY |
                          O_NOFOLLOW | O_NONBLOCK,
                      0666);
  if (fd < 0)
    return absl::StrCat("cannot create ", path, ": ", strerror(errno));
  const bool wrote = WriteAll(fd, text.data(), text.size());
  const int write_error = errno;
  if (close(fd) != 0 || !wrote) {
    std::string why = absl::StrCat("cannot write ", path, ": ",
                                   strerror(wrote ? errno : write_error));
    unlink(path.c_str());
    return why;
  }
  return "";
}

// GoogleTest's generator ignores every write error (a full disk, a quota):
// whether the file it left is whole, from how GoogleTest ends each format.
// Returns "" or what is wrong. Allocates; no lock; not signal-safe.
std::string WhyIncomplete(const std::string& path, bool json) {
  const int fd = open(
      path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return absl::StrCat("left no file (", strerror(errno), ")");
  struct stat st;
  std::string why;
  const std::string end = json ? "\n}\n" : "</testsuites>\n";
  char tail[16] = {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "left something that is not a regular file";
  } else if (st.st_size == 0) {
    why = "left an empty file";
  } else if (st.st_size < static_cast<off_t>(end.size()) ||
             pread(fd, tail, end.size(),
                   st.st_size - static_cast<off_t>(end.size())) !=
                 static_cast<ssize_t>(end.size()) ||
             end.compare(0, end.size(), tail, end.size()) != 0) {
    why = absl::StrCat("left an incomplete file (", st.st_size,
                       " bytes; out of disk space?)");
  }
  close(fd);
  return why;
}

// While GoogleTest's generator runs: an exception out of it (bad_alloc, a
// listener's) leaves the minimal file, as a crash does. Allocates nothing;
// no lock.
class RescueOnUnwind {
 public:
  RescueOnUnwind() = default;
  RescueOnUnwind(const RescueOnUnwind&) = delete;
  RescueOnUnwind& operator=(const RescueOnUnwind&) = delete;
  ~RescueOnUnwind() {
    if (OutputRescueArmed()) {
      RescueOutput(g_prepared->stderr_fd, "threw an exception");
    }
  }
};

// The stall path leaves SIGABRT at its default action, so an abort() in the
// generator (GoogleTest's fatal log when it cannot open the file, operator
// new failing without exceptions) or on another thread would end the
// process with the file half-written: for that while, a handler that
// rescues first. A signal report keeps its own SIGABRT handler, whose
// reporting-thread branch rescues too. Handler: signal-safe.
class RescueOnAbort {
 public:
  RescueOnAbort() {
    struct sigaction now;
    if (sigaction(SIGABRT, nullptr, &now) != 0 || now.sa_handler != SIG_DFL) {
      return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = &OnAbort;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    installed_ = sigaction(SIGABRT, &sa, nullptr) == 0;
  }
  RescueOnAbort(const RescueOnAbort&) = delete;
  RescueOnAbort& operator=(const RescueOnAbort&) = delete;
  ~RescueOnAbort() {
    if (!installed_) return;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGABRT, &dfl, nullptr);
  }

 private:
  // SA_RESETHAND: SIGABRT is back at its default action here, and abort()
  // raises it again once this returns (as does a kill's re-raise below).
  static void OnAbort(int sig, siginfo_t*, void*) {
    RescueOutput(g_prepared->stderr_fd, "received ", SignalName(sig));
    RaiseWithDefaultAction(sig);
  }
  bool installed_ = false;
};

}  // namespace

void PrepareGtestOutput() {
  if (g_prepared != nullptr) return;
  testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  if (unit.listeners().default_xml_generator() == nullptr) return;
  const std::string flag = GTEST_FLAG_GET(output);
  const std::string format = flag.substr(0, flag.find(':'));
  if (format != "xml" && format != "json") return;  // another generator
  auto* prepared = new Prepared;
  prepared->json = format == "json";
  prepared->path = OutputPath(flag, format);
  struct stat st;
  if (lstat(prepared->path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    prepared->had_file = true;
    prepared->old_file = st;
  }
  // Above the report helper's fixed descriptors, like the stall path's own.
  // Started with stderr closed: -1, never whatever the program opens as fd 2
  // later (a write there then fails quietly).
  prepared->stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
  prepared->started =
      new StartedTests(static_cast<size_t>(unit.total_test_count()));
  unit.listeners().Append(prepared->started);
  g_prepared = prepared;
}

std::string GtestOutputFile(bool* json) {
  *json = false;
  if (testing::UnitTest::GetInstance()->listeners().default_xml_generator() ==
      nullptr) {
    return "";
  }
  const std::string flag = GTEST_FLAG_GET(output);
  const std::string format = flag.substr(0, flag.find(':'));
  if (format != "xml" && format != "json") return "";
  *json = format == "json";
  return OutputPath(flag, format);
}

bool GtestOutputRequested() { return g_prepared != nullptr; }

StaleOutput RemoveStaleGtestOutput() {
  if (g_prepared == nullptr || !g_prepared->had_file) {
    return StaleOutput::kNone;
  }
  const char* path = g_prepared->path.c_str();
  const struct stat& old = g_prepared->old_file;
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_dev != old.st_dev || st.st_ino != old.st_ino ||
      st.st_size != old.st_size || st.st_mtim.tv_sec != old.st_mtim.tv_sec ||
      st.st_mtim.tv_nsec != old.st_mtim.tv_nsec) {
    return StaleOutput::kNone;  // gone, or written since: this run's
  }
  return unlink(path) == 0 ? StaleOutput::kRemoved : StaleOutput::kKept;
}

const char* StaleOutputNote(StaleOutput stale) {
  switch (stale) {
    case StaleOutput::kRemoved:
      return "; the older file there, from before this run, was removed";
    case StaleOutput::kKept:
      return "; the older file there, from before this run, could not be "
             "removed: it is not this run's";
    case StaleOutput::kNone:
      break;
  }
  return "";
}

GtestOutputWritten WriteGtestOutputAfterStall(
    const std::string& failure_message) {
  GtestOutputWritten written;
  if (g_prepared == nullptr) return written;
  testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  testing::TestEventListeners& listeners = unit.listeners();
  // Read now: the program may have released (and deleted) it meanwhile.
  testing::TestEventListener* generator = listeners.default_xml_generator();
  if (generator == nullptr) {
    SayNotWritten(g_prepared->path,
                  "the program removed GoogleTest's output generator");
    return written;
  }
  const std::string& path = g_prepared->path;
  std::string why = WhyNotWritable(path);
  if (!why.empty()) {
    SayNotWritten(path, why);
    return written;
  }

  const testing::TestInfo* test = unit.current_test_info();
  const testing::TestSuite* suite = unit.current_test_suite();

  // The minimal file first, beside the real one (rename needs the same file
  // system), and the rescue armed before anything below takes GoogleTest's
  // lock or runs its generator: from here on a crash, an abort, an exception
  // or a hang (the dead-man) leaves the minimal file, never an older,
  // empty or half-written one.
  const std::string minimal_path =
      absl::StrCat(path, ".gtest_watchdog-", getpid());
  unlink(minimal_path.c_str());  // a leftover of a killed run with our pid
  const MinimalCase minimal = Describe(test, suite, failure_message);
  why = WriteNewFile(minimal_path, g_prepared->json ? MinimalJson(minimal)
                                                    : MinimalXml(minimal));
  if (!why.empty()) {
    SayNotWritten(path, why);
    return written;
  }
  if (!ArmOutputRescue(minimal_path.c_str(), path.c_str())) {
    unlink(minimal_path.c_str());
    SayNotWritten(path, "the path is too long");
    return written;
  }
  {
    const RescueOnUnwind on_exception;
    const RescueOnAbort on_abort;

    // The console printer would print the failure with printf: stdout may
    // be a full pipe or its lock held by the stuck thread, and the report
    // already said it all. Leaked, not deleted: the stuck thread may be
    // inside it.
    listeners.Release(listeners.default_result_printer());
    FailCurrent(failure_message, test, suite);
    SetElapsedSoFar(test, suite);
    MarkNotStartedAsNotRun(unit, test);
    generator->OnTestIterationEnd(unit, g_prepared->started->iteration());
    if (g_prepared->json) gtest_internals::RepairJsonOutput(path);
    why = WhyIncomplete(path, g_prepared->json);
    // Still armed while the file is checked; a rescue from here on has not
    // returned (the process ended), so disarming always succeeds.
    DisarmOutputRescue();
  }
  written.path = path;
  if (why.empty()) {
    unlink(minimal_path.c_str());
    written.kind = GtestOutputWritten::Kind::kComplete;
  } else if (rename(minimal_path.c_str(), path.c_str()) == 0) {
    written.kind = GtestOutputWritten::Kind::kMinimal;
    written.why = why;
  } else {
    const int err = errno;
    unlink(minimal_path.c_str());
    unlink(path.c_str());
    SayNotWritten(path, absl::StrCat("GoogleTest's generator ", why,
                                     ", and the minimal file could not "
                                     "replace it (",
                                     strerror(err), "): removed"));
  }
  return written;
}

}  // namespace gtest_watchdog_internal
