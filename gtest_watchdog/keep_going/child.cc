#include "gtest_watchdog/keep_going/child.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/keep_going/forwarding_listener.h"
#include "gtest_watchdog/keep_going/result_record.h"

namespace gtest_watchdog_internal {
namespace {

// GoogleTest's console lines but the run's header and summary: those are
// the supervisor's, for the whole run.
class PerTestPrinter : public ForwardingListener {
 public:
  using ForwardingListener::ForwardingListener;
  void OnTestProgramStart(const testing::UnitTest&) override {}
  void OnTestIterationStart(const testing::UnitTest&, int) override {}
  void OnTestIterationEnd(const testing::UnitTest&, int) override {}
  void OnTestProgramEnd(const testing::UnitTest&) override {}
};

// Keeps the page up to date (plain stores) and appends every result.
// Not on the stall path.
class ChildListener : public testing::EmptyTestEventListener {
 public:
  ChildListener(KeepGoingPage* page, int results_fd, std::string user_filter)
      : page_(page),
        results_fd_(results_fd),
        user_filter_(std::move(user_filter)) {}

  void OnTestProgramStart(const testing::UnitTest& unit) override {
    // GoogleTest has selected by the list already. Back to the user's
    // filter: GoogleTest copies every flag around each test
    // (GTestFlagSaver), and a list of 100,000 names made each test copy
    // megabytes; a test reading the flag sees what it would see anyway.
    GTEST_FLAG_SET(filter, user_filter_);
    // Registration order: GoogleTest shuffles only once an iteration
    // starts. The supervisor numbers tests the same way.
    int id = 0;
    for (int i = 0; i < unit.total_test_suite_count(); ++i) {
      const testing::TestSuite* suite = unit.GetTestSuite(i);
      suite_ids_[suite] = i;
      for (int j = 0; j < suite->total_test_count(); ++j) {
        test_ids_[suite->GetTestInfo(j)] = id++;
      }
    }
  }
  void OnEnvironmentsSetUpStart(const testing::UnitTest&) override {
    Enter(ChildWhere::kEnvironmentSetUp, -1, -1);
  }
  void OnTestSuiteStart(const testing::TestSuite& suite) override {
    Enter(ChildWhere::kSuiteSetUp, SuiteId(&suite), -1);
  }
  void OnTestStart(const testing::TestInfo& test) override {
    Enter(ChildWhere::kTest, page_->suite_id.load(std::memory_order_relaxed),
          TestId(&test));
  }
  void OnTestEnd(const testing::TestInfo& test) override {
    Append(RecordOf(RecordedResult::Kind::kTest, TestId(&test),
                    absl::StrCat(test.test_suite_name(), ".", test.name()),
                    *test.result()));
    Enter(ChildWhere::kAfterTest,
          page_->suite_id.load(std::memory_order_relaxed), -1);
  }
  void OnTestSuiteEnd(const testing::TestSuite& suite) override {
    RecordedResult r = RecordOf(RecordedResult::Kind::kSuite, SuiteId(&suite),
                                suite.name(), suite.ad_hoc_test_result());
    r.start_ms = suite.start_timestamp();
    r.elapsed_ms = suite.elapsed_time();
    Append(r);
    Enter(ChildWhere::kAfterTest, -1, -1);
  }
  void OnEnvironmentsTearDownStart(const testing::UnitTest&) override {
    Enter(ChildWhere::kEnvironmentTearDown, -1, -1);
  }
  void OnTestIterationEnd(const testing::UnitTest& unit, int) override {
    Append(RecordOf(RecordedResult::Kind::kProgram, -1, "",
                    unit.ad_hoc_test_result()));
    Enter(ChildWhere::kFinished, -1, -1);
  }

 private:
  int TestId(const testing::TestInfo* t) const {
    const auto it = test_ids_.find(t);
    return it == test_ids_.end() ? -1 : it->second;
  }
  int SuiteId(const testing::TestSuite* s) const {
    const auto it = suite_ids_.find(s);
    return it == suite_ids_.end() ? -1 : it->second;
  }
  void Enter(ChildWhere where, int suite, int test) {
    PageEnter(page_, where, suite, test, MonotonicNowNs());
  }
  void Append(const RecordedResult& r) {
    const std::string line = EncodeRecord(r);
    WriteAll(results_fd_, line.data(), line.size());
  }

  KeepGoingPage* page_;
  int results_fd_;
  std::string user_filter_;
  std::unordered_map<const void*, int> test_ids_;
  std::unordered_map<const void*, int> suite_ids_;
};

// In a process forked from a test child (a "fast" death test, a test's own
// fork()): the page, board included, would still be shared with the child
// and the supervisor, and what the forked process does to its board (a
// crash report's request, exit()) would freeze the child's. It gets a
// private copy at the same address instead. Runs in the new process right
// after fork(): a copy and two system calls, signal-safe.
char g_page_copy[sizeof(KeepGoingPage)];

void PrivatizePageAfterFork() {
  KeepGoingPage* page = ChildPage();
  if (page == nullptr) return;
  memcpy(g_page_copy, static_cast<void*>(page), sizeof(KeepGoingPage));
  if (mmap(page, sizeof(KeepGoingPage), PROT_READ | PROT_WRITE,
           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
    return;  // left shared: no worse than before
  }
  memcpy(static_cast<void*>(page), g_page_copy, sizeof(KeepGoingPage));
}

bool ReadAll(int fd, std::string* out) {
  char buffer[65536];
  off_t at = 0;
  for (;;) {
    const ssize_t n = pread(fd, buffer, sizeof buffer, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out->append(buffer, static_cast<size_t>(n));
    at += n;
  }
}

}  // namespace

std::string ChildSpec(int page_fd, int results_fd, int list_fd, int seed,
                      int parent_pid, int64_t run_start_ns) {
  return absl::StrCat(page_fd, ":", results_fd, ":", list_fd, ":", seed, ":",
                      parent_pid, ":", run_start_ns);
}

bool IsTestChild() { return std::getenv(kChildVariable) != nullptr; }

KeepGoingPage* SetUpTestChild(int64_t* run_start_ns, std::string* error) {
  const std::string spec = std::getenv(kChildVariable);
  unsetenv(kChildVariable);
  const std::vector<std::string> parts = absl::StrSplit(spec, ':');
  int page_fd = -1, results_fd = -1, list_fd = -1, seed = 0, parent = 0;
  if (parts.size() != 6 || !absl::SimpleAtoi(parts[0], &page_fd) ||
      !absl::SimpleAtoi(parts[5], run_start_ns) ||
      !absl::SimpleAtoi(parts[1], &results_fd) ||
      !absl::SimpleAtoi(parts[2], &list_fd) ||
      !absl::SimpleAtoi(parts[3], &seed) ||
      !absl::SimpleAtoi(parts[4], &parent)) {
    *error = absl::StrCat(kChildVariable, ": invalid value '", spec,
                          "' (it is set by a keep-going run for its test "
                          "children, never by hand)");
    return nullptr;
  }
  // Die with the supervisor: a test left running alone would hold the
  // terminal and whatever it locked. (Checked after: it may be gone
  // already.)
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    *error = "the keep-going supervisor is gone";
    return nullptr;
  }
  // The test's own children never inherit these.
  for (int fd : {page_fd, results_fd, list_fd}) {
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
      *error = absl::StrCat(kChildVariable, ": descriptor ", fd,
                            " is not open: ", strerror(errno));
      return nullptr;
    }
  }
  void* map = mmap(nullptr, sizeof(KeepGoingPage), PROT_READ | PROT_WRITE,
                   MAP_SHARED, page_fd, 0);
  if (map == MAP_FAILED) {
    *error = absl::StrCat("cannot map the keep-going page: ", strerror(errno));
    return nullptr;
  }
  auto* page = static_cast<KeepGoingPage*>(map);
  if (page->magic != KeepGoingPage::kMagic) {
    *error = "the keep-going page is not one";
    return nullptr;
  }
  std::string filter;
  if (!ReadAll(list_fd, &filter) || filter.empty()) {
    *error = "cannot read the keep-going child's list of tests";
    return nullptr;
  }
  close(list_fd);
  const std::string user_filter = GTEST_FLAG_GET(filter);
  GTEST_FLAG_SET(filter, filter);
  GTEST_FLAG_SET(repeat, 1);
  GTEST_FLAG_SET(random_seed, seed);
  GTEST_FLAG_SET(output, "");
  testing::TestEventListeners& listeners =
      testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_xml_generator());
  if (testing::TestEventListener* printer =
          listeners.Release(listeners.default_result_printer())) {
    listeners.Append(new PerTestPrinter(printer));
  }
  listeners.Append(new ChildListener(page, results_fd, user_filter));
  page->test_tid.store(static_cast<pid_t>(syscall(SYS_gettid)),
                       std::memory_order_relaxed);
  SetChildPage(page);
  pthread_atfork(nullptr, nullptr, &PrivatizePageAfterFork);
  return page;
}

}  // namespace gtest_watchdog_internal
