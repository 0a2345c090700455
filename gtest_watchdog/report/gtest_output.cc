#include "gtest_watchdog/report/gtest_output.h"

#include <fcntl.h>
#include <sys/stat.h>
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

namespace gtest_watchdog_internal {
namespace {

// GoogleTest 1.12 has no public way to say "this test did not run", to give
// an unfinished test its time so far, or to add a result to anything but the
// current test. An explicit instantiation may name private members (C++17
// [temp.explicit]/14); the pointer comes out through a friend function. If
// GoogleTest renames one of these members the build fails here, never
// silently.
template <typename Tag, typename Tag::type kMember>
struct PrivateMember {
  friend typename Tag::type Member(Tag) { return kMember; }
};

struct TestShouldRun {
  using type = bool testing::TestInfo::*;
  friend type Member(TestShouldRun);
};
template struct PrivateMember<TestShouldRun, &testing::TestInfo::should_run_>;

struct ResultElapsed {
  using type = testing::TimeInMillis testing::TestResult::*;
  friend type Member(ResultElapsed);
};
template struct PrivateMember<ResultElapsed,
                              &testing::TestResult::elapsed_time_>;

struct SuiteElapsed {
  using type = testing::TimeInMillis testing::TestSuite::*;
  friend type Member(SuiteElapsed);
};
template struct PrivateMember<SuiteElapsed, &testing::TestSuite::elapsed_time_>;

struct ResultAddPart {
  using type = void (testing::TestResult::*)(const testing::TestPartResult&);
  friend type Member(ResultAddPart);
};
template struct PrivateMember<ResultAddPart,
                              &testing::TestResult::AddTestPartResult>;

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
  const std::vector<std::string> argv = testing::internal::GetArgvs();
  std::string program = argv.empty() ? "" : argv[0];
  program = program.substr(program.find_last_of('/') + 1);
  for (int n = 0;; ++n) {
    std::string candidate = absl::StrCat(
        path, program, n == 0 ? "" : absl::StrCat("_", n), ".", format);
    struct stat st;
    if (stat(candidate.c_str(), &st) != 0) return candidate;
  }
}

// GoogleTest aborts the process if it cannot open the file: find out first,
// creating missing directories as it would. Returns "" if the path is (now)
// a regular file we may write, else why not. The path is not ours: a FIFO
// there would block an ordinary open until a reader comes (hanging the
// stall path until the dead-man fires), a symbolic link would send the
// output wherever it points. O_NONBLOCK makes a FIFO without a reader fail
// (ENXIO) and one with a reader open without waiting, O_NOFOLLOW refuses a
// link (ELOOP), and fstat must then say "regular file". Residual risk:
// GoogleTest's generator opens the path again itself, with a plain fopen
// (it follows links, blocks on a FIFO): someone who can replace the file
// between this check and that fopen still can. Allocates (the directory
// prefixes); no lock; not signal-safe.
std::string WhyNotWritable(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    mkdir(path.substr(0, slash).c_str(), 0777);  // EEXIST is fine
  }
  const int fd =
      open(path.c_str(),
           O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
           0666);
  if (fd < 0) {
    const int err = errno;
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

// One line on the program's start-up stderr, with write(2): no stdio, whose
// lock a stuck thread may hold. Allocates; no lock; not signal-safe.
void SayNotWritten(const std::string& path, const std::string& why) {
  const std::string line =
      absl::StrCat("[ WATCHDOG ] not writing GoogleTest's output file ", path,
                   ": ", why, "\n");
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n =
        write(g_prepared->stderr_fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
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
    testing::internal::AssertHelper(testing::TestPartResult::kFatalFailure,
                                    test != nullptr ? test->file() : nullptr,
                                    test != nullptr ? test->line() : -1,
                                    message.c_str()) = testing::Message();
  }
  const testing::TestPartResult part(testing::TestPartResult::kFatalFailure,
                                     nullptr, -1, message.c_str());
  auto add_to = [&part](const testing::TestResult& result) {
    (const_cast<testing::TestResult&>(result).*Member(ResultAddPart{}))(part);
  };
  if (test != nullptr) {
    // A test stuck inside EXPECT_FATAL_FAILURE_ON_ALL_THREADS has the
    // global reporter swapped for a catcher: the failure went there.
    if (!test->result()->Failed()) add_to(*test->result());
  } else if (suite != nullptr) {
    // GoogleTest 1.12's XML and JSON omit a suite's own failures (from
    // SetUpTestSuite/TearDownTestSuite); the program's appear, as a
    // "NonTestSuiteFailure" suite.
    add_to(testing::UnitTest::GetInstance()->ad_hoc_test_result());
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
      const_cast<testing::TestInfo*>(test)->*Member(TestShouldRun{}) = false;
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
    const_cast<testing::TestResult&>(result).*Member(ResultElapsed{}) =
        now - result.start_timestamp();
  }
  if (suite != nullptr && suite->start_timestamp() != 0) {
    const_cast<testing::TestSuite*>(suite)->*Member(SuiteElapsed{}) =
        now - suite->start_timestamp();
  }
}

// GoogleTest 1.12's JSON printer forgets the comma before the
// "NonTestSuiteFailure" suite it adds after the others, making the file
// invalid. A raw newline cannot occur inside a JSON string, so this exact
// text is the printer's own. Versions that write the comma never match.
// Edits the file in place through one descriptor that does not follow a
// link and is not inherited by anything the program starts. Allocates (the
// file's text); no lock; not signal-safe.
void FixJsonNonTestSuiteComma(const std::string& path) {
  const int fd = open(path.c_str(),
                      O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return;
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n =
        pread(fd, buffer, sizeof buffer, static_cast<off_t>(text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  const std::string broken =
      "\n    }    {\n      \"name\": \"NonTestSuiteFailure\"";
  const size_t at = text.find(broken);
  if (at == std::string::npos) {
    close(fd);
    return;
  }
  text.replace(at, broken.size(),
               "\n    },\n    {\n      \"name\": \"NonTestSuiteFailure\"");
  // Only the text from the fix on changes (and grows).
  size_t done = at;
  while (done < text.size()) {
    const ssize_t n = pwrite(fd, text.data() + done, text.size() - done,
                             static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done == text.size()) {
    (void)ftruncate(fd, static_cast<off_t>(text.size()));
  }
  close(fd);
}

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
  // Above the report helper's fixed descriptors, like the stall path's own.
  // Started with stderr closed: -1, never whatever the program opens as fd 2
  // later (a write there then fails quietly).
  prepared->stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 10);
  prepared->started =
      new StartedTests(static_cast<size_t>(unit.total_test_count()));
  unit.listeners().Append(prepared->started);
  g_prepared = prepared;
}

bool GtestOutputRequested() { return g_prepared != nullptr; }

bool WriteGtestOutputAfterStall(const std::string& failure_message,
                                std::string* written_path) {
  if (g_prepared == nullptr) return false;
  testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  testing::TestEventListeners& listeners = unit.listeners();
  // Read now: the program may have released (and deleted) it meanwhile.
  testing::TestEventListener* generator = listeners.default_xml_generator();
  if (generator == nullptr) return false;
  const std::string why = WhyNotWritable(g_prepared->path);
  if (!why.empty()) {
    SayNotWritten(g_prepared->path, why);
    return false;
  }

  // The console printer would print the failure with printf: stdout may be
  // a full pipe or its lock held by the stuck thread, and the report already
  // said it all. Leaked, not deleted: the stuck thread may be inside it.
  listeners.Release(listeners.default_result_printer());

  const testing::TestInfo* test = unit.current_test_info();
  const testing::TestSuite* suite = unit.current_test_suite();
  FailCurrent(failure_message, test, suite);
  SetElapsedSoFar(test, suite);
  MarkNotStartedAsNotRun(unit, test);

  generator->OnTestIterationEnd(unit, g_prepared->started->iteration());
  if (g_prepared->json && unit.ad_hoc_test_result().Failed()) {
    FixJsonNonTestSuiteComma(g_prepared->path);
  }
  if (written_path != nullptr) *written_path = g_prepared->path;
  return true;
}

}  // namespace gtest_watchdog_internal
