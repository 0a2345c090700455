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
#include "gtest_watchdog/gtest_output/gtest_internals.h"
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
  ChildListener(KeepGoingPage* page, int results_fd, void* passes,
                std::string listed, std::string user_filter)
      : page_(page),
        results_fd_(results_fd),
        passes_(passes),
        listed_(std::move(listed)),
        user_filter_(std::move(user_filter)) {}

  void OnTestProgramStart(const testing::UnitTest& unit) override {
    // GoogleTest's filter ("*") has selected every test; this child runs
    // those on the supervisor's list, selected here as the supervisor
    // selected them (keep_going/selection.h). Back to the user's filter
    // for a test that reads the flag.
    GTEST_FLAG_SET(filter, user_filter_);
    // Registration order: GoogleTest shuffles only once an iteration
    // starts. The supervisor numbers tests the same way.
    int id = 0;
    const bool shuffle = GTEST_FLAG_GET(shuffle);
    for (int i = 0; i < unit.total_test_suite_count(); ++i) {
      const testing::TestSuite* suite = unit.GetTestSuite(i);
      suite_ids_[suite] = i;
      suite_first_.push_back(id);
      bool suite_runs = false;
      for (int j = 0; j < suite->total_test_count(); ++j, ++id) {
        const testing::TestInfo* test = suite->GetTestInfo(j);
        // GetTestInfo gives registration order only until a shuffle.
        if (shuffle) test_ids_[test] = id;
        const bool listed = static_cast<size_t>(id) < listed_.size() &&
                            listed_[static_cast<size_t>(id)] != 0;
        gtest_internals::SetSelection(*test, listed, false, listed);
        suite_runs = suite_runs || listed;
      }
      gtest_internals::SetShouldRun(*suite, suite_runs);
    }
    listed_.clear();
    listed_.shrink_to_fit();
  }
  void OnEnvironmentsSetUpStart(const testing::UnitTest&) override {
    Enter(ChildWhere::kEnvironmentSetUp, -1, -1);
  }
  void OnTestSuiteStart(const testing::TestSuite& suite) override {
    suite_ = &suite;
    suite_id_ = SuiteId(&suite);
    next_in_suite_ = 0;
    Enter(ChildWhere::kSuiteSetUp, suite_id_, -1);
  }
  void OnTestStart(const testing::TestInfo& test) override {
    test_ = &test;
    test_id_ = TestId(&test);
    Enter(ChildWhere::kTest, suite_id_, test_id_);
  }
  void OnTestEnd(const testing::TestInfo& test) override {
    const testing::TestResult& result = *test.result();
    const int id = &test == test_ ? test_id_ : TestId(&test);
    PlainPass pass;
    pass.id = id;
    pass.start_ms = result.start_timestamp();
    pass.elapsed_ms = result.elapsed_time();
    if (id < 0 || !IsPlainPass(result) || !AppendPlainPass(passes_, pass)) {
      Append(RecordOf(RecordedResult::Kind::kTest, id,
                      absl::StrCat(test.test_suite_name(), ".", test.name()),
                      result));
    }
    Enter(ChildWhere::kAfterTest, suite_id_, -1);
  }
  void OnTestSuiteEnd(const testing::TestSuite& suite) override {
    RecordedResult r = RecordOf(RecordedResult::Kind::kSuite, SuiteId(&suite),
                                suite.name(), suite.ad_hoc_test_result());
    r.start_ms = suite.start_timestamp();
    r.elapsed_ms = suite.elapsed_time();
    Append(r);
    suite_ = nullptr;
    suite_id_ = -1;
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
  // The test's registration index. Unshuffled, GoogleTest runs a suite's
  // tests in registration order: the next one that runs, found from where
  // the last one was, with no hashing (a hash lookup a test was a tenth of
  // what keep going cost on 100,000 trivial tests). Shuffled, a map.
  int TestId(const testing::TestInfo* t) {
    if (suite_ != nullptr && suite_id_ >= 0 && !GTEST_FLAG_GET(shuffle)) {
      const int n = suite_->total_test_count();
      for (int j = next_in_suite_; j < n; ++j) {
        if (suite_->GetTestInfo(j) == t) {
          next_in_suite_ = j + 1;
          return suite_first_[static_cast<size_t>(suite_id_)] + j;
        }
      }
    }
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
  void* passes_;        // the plain-pass log (result_record.h)
  std::string listed_;  // a byte per registered test: 1 to run it here
  std::string user_filter_;
  std::unordered_map<const void*, int> test_ids_;  // only when shuffled
  std::unordered_map<const void*, int> suite_ids_;
  std::vector<int> suite_first_;               // per suite: its first test's id
  const testing::TestSuite* suite_ = nullptr;  // the one running
  int suite_id_ = -1;
  int next_in_suite_ = 0;  // where its next test is looked for first
  const testing::TestInfo* test_ = nullptr;  // the one running
  int test_id_ = -1;
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

}  // namespace

std::string ChildSpec(int page_fd, int results_fd, int list_fd, int passes_fd,
                      int seed, int parent_pid, int64_t run_start_ns) {
  return absl::StrCat(page_fd, ":", results_fd, ":", list_fd, ":", passes_fd,
                      ":", seed, ":", parent_pid, ":", run_start_ns);
}

bool IsTestChild() { return std::getenv(kChildVariable) != nullptr; }

KeepGoingPage* SetUpTestChild(int64_t* run_start_ns, std::string* error) {
  const std::string spec = std::getenv(kChildVariable);
  unsetenv(kChildVariable);
  const std::vector<std::string> parts = absl::StrSplit(spec, ':');
  int page_fd = -1, results_fd = -1, list_fd = -1, passes_fd = -1, seed = 0,
      parent = 0;
  if (parts.size() != 7 || !absl::SimpleAtoi(parts[0], &page_fd) ||
      !absl::SimpleAtoi(parts[1], &results_fd) ||
      !absl::SimpleAtoi(parts[2], &list_fd) ||
      !absl::SimpleAtoi(parts[3], &passes_fd) ||
      !absl::SimpleAtoi(parts[4], &seed) ||
      !absl::SimpleAtoi(parts[5], &parent) ||
      !absl::SimpleAtoi(parts[6], run_start_ns)) {
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
  for (int fd : {page_fd, results_fd, list_fd, passes_fd}) {
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
  void* passes = MapPlainPassLog(passes_fd, error);
  if (passes == nullptr) return nullptr;
  std::string listed;
  if (!ReadWholeFile(list_fd, &listed) || listed.empty()) {
    *error = "cannot read the keep-going child's list of tests";
    return nullptr;
  }
  close(list_fd);
  const std::string user_filter = GTEST_FLAG_GET(filter);
  // Every test (as GoogleTest selects; disabled ones only with
  // --gtest_also_run_disabled_tests, as in the supervisor): the listener
  // narrows to the list. No sharding here: the supervisor shards.
  GTEST_FLAG_SET(filter, "*");
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
  listeners.Append(new ChildListener(page, results_fd, passes,
                                     std::move(listed), user_filter));
  page->test_tid.store(static_cast<pid_t>(syscall(SYS_gettid)),
                       std::memory_order_relaxed);
  SetChildPage(page);
  pthread_atfork(nullptr, nullptr, &PrivatizePageAfterFork);
  return page;
}

}  // namespace gtest_watchdog_internal
