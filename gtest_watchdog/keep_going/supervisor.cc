#include "gtest_watchdog/keep_going/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raise.h"
#include "gtest_watchdog/base/signal_name.h"
#include "gtest_watchdog/gtest_output/after_stall.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"
#include "gtest_watchdog/keep_going/child.h"
#include "gtest_watchdog/keep_going/forwarding_listener.h"
#include "gtest_watchdog/keep_going/result_record.h"
#include "gtest_watchdog/keep_going/run_report.h"
#include "gtest_watchdog/keep_going/selection.h"
#include "gtest_watchdog/keep_going/test_child.h"
#include "gtest_watchdog/watch/keep_going_page.h"

namespace gtest_watchdog_internal {
namespace {

namespace gi = gtest_internals;

class Supervisor : public ForwardingListener {
 public:
  Supervisor(SupervisorSettings settings, testing::TestEventListener* printer,
             std::string filter)
      : ForwardingListener(printer),
        settings_(std::move(settings)),
        filter_(std::move(filter)),
        log_(settings_.report_path) {}

  bool Open(std::string* error) {
    page_fd_ =
        static_cast<int>(syscall(SYS_memfd_create, "gtest_watchdog-page", 0));
    results_fd_ = static_cast<int>(
        syscall(SYS_memfd_create, "gtest_watchdog-results", 0));
    list_fd_ =
        static_cast<int>(syscall(SYS_memfd_create, "gtest_watchdog-list", 0));
    if (page_fd_ < 0 || results_fd_ < 0 || list_fd_ < 0 || !passes_.Open() ||
        ftruncate(page_fd_, sizeof(KeepGoingPage)) != 0) {
      *error =
          absl::StrCat("keep going: cannot make a memfd: ", strerror(errno));
      return false;
    }
    void* map = mmap(nullptr, sizeof(KeepGoingPage), PROT_READ | PROT_WRITE,
                     MAP_SHARED, page_fd_, 0);
    if (map == MAP_FAILED) {
      *error = absl::StrCat("keep going: cannot map the shared page: ",
                            strerror(errno));
      return false;
    }
    page_memory_ = map;
    // The program's own path, resolved once: spawning /proc/self/exe would
    // name every child's threads "exe" in the reports.
    char path[4096];
    const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    exe_ = n > 0 ? std::string(path, static_cast<size_t>(n)) : "/proc/self/exe";
    if (access(exe_.c_str(), X_OK) != 0) exe_ = "/proc/self/exe";
    output_file_ = GtestOutputFile(&output_json_);
    if (!settings_.report_path.empty()) {
      // Each child writes its report here; the run's file gathers them.
      const char* tmp = std::getenv("TMPDIR");
      std::string dir =
          absl::StrCat(tmp != nullptr && *tmp == '/' ? tmp : "/tmp",
                       "/gtest_watchdog-XXXXXX");
      if (mkdtemp(dir.data()) == nullptr) {
        *error = absl::StrCat(
            "keep going: cannot make a directory for the test children's "
            "reports (",
            dir, "): ", strerror(errno));
        return false;
      }
      child_report_dir_ = dir;
      child_report_path_ = dir + "/report.json";
    }
    return true;
  }

  void OnTestProgramStart(const testing::UnitTest& unit) override {
    // GoogleTest has selected (nothing) already; the user's filter is back
    // for the console's "Note: ... filter" line.
    GTEST_FLAG_SET(filter, filter_);
    to().OnTestProgramStart(unit);
  }

  void OnTestIterationStart(const testing::UnitTest& unit,
                            int iteration) override {
    iteration_ = iteration;
    Select(unit);  // in registration order: before the shuffle
    if (GTEST_FLAG_GET(shuffle)) {
      gi::ShuffleAsGoogleTest(unit, static_cast<uint32_t>(unit.random_seed()),
                              DeathTestSuiteCount(suites_));
    }
    to().OnTestIterationStart(unit, iteration);
    RunIteration(unit);
  }

  void OnTestIterationEnd(const testing::UnitTest& unit,
                          int iteration) override {
    log_.Print(stopped_);
    to().OnTestIterationEnd(unit, iteration);
  }
  void OnTestProgramEnd(const testing::UnitTest& unit) override {
    // GoogleTest's generator wrote the file at the iteration's end (before
    // this, as End events go to listeners last-added first).
    if (output_json_ && !output_file_.empty()) {
      gi::RepairJsonOutput(output_file_);
    }
    if (!child_report_dir_.empty()) {
      unlink(child_report_path_.c_str());
      rmdir(child_report_dir_.c_str());
    }
    to().OnTestProgramEnd(unit);
    // Interrupted: the output is written; now end as the signal asked, so
    // that a shell or CI runner sees it.
    if (const int sig = SupervisorInterrupted()) {
      (void)fflush(stdout);
      RaiseWithDefaultAction(sig);
    }
  }

 private:
  using Test = RegisteredTest;

  // What GoogleTest's FilterTests would have decided here.
  void Select(const testing::UnitTest& unit) {
    SelectAsGoogleTest(unit, filter_, &tests_, &suites_);
  }

  void RunIteration(const testing::UnitTest& unit) {
    log_.StartIteration();
    attempts_.assign(tests_.size(), 0);
    history_.assign(tests_.size(), "");
    stopped_.clear();
    suite_elapsed_.assign(suites_.size(), 0);
    suite_start_.assign(suites_.size(), 0);
    test_sum_.assign(suites_.size(), 0);
    std::vector<int> remaining;
    for (size_t id = 0; id < tests_.size(); ++id) {
      if (tests_[id].info->should_run())
        remaining.push_back(static_cast<int>(id));
    }
    const int seed = unit.random_seed();
    bool stop = false;
    while (!remaining.empty() && !stop && SupervisorInterrupted() == 0) {
      if (settings_.total_ns > 0 &&
          MonotonicNowNs() >= run_start_ns_ + settings_.total_ns) {
        Say(absl::StrCat(
            "[ KEEP GOING ] the whole run's limit (",
            SecondsText(settings_.total_ns), ", from ", settings_.total_origin,
            ") is spent: the run stops "
            "here; ",
            remaining.size(), remaining.size() == 1 ? " test" : " tests",
            " not run"));
        stopped_ = "the whole run's limit";
        break;
      }
      const size_t before = remaining.size();
      std::vector<bool> reported(tests_.size(), false);
      ChildEnd end;
      if (!RunChild(remaining, seed, &end)) {
        FailProgram(unit, absl::StrCat("gtest_watchdog: keep going: cannot "
                                       "start a test child: ",
                                       strerror(errno)));
        break;
      }
      ApplyResults(unit, remaining, &reported);
      child_report_ = TakeChildReport(child_report_path_);
      std::vector<int> left;
      for (int id : remaining) {
        if (!reported[id]) left.push_back(id);
      }
      remaining.swap(left);
      const auto* page = Page();
      const auto where =
          static_cast<ChildWhere>(page->where.load(std::memory_order_acquire));
      const bool finished =
          end.reaped && WIFEXITED(end.status) && where == ChildWhere::kFinished;
      if (finished) {  // the child ran all it could (fail_fast too)
        if (SupervisorInterrupted() != 0) stopped_ = "interrupted";
        break;
      }
      retried_ = false;
      stop = HandleEarlyEnd(unit, end, where, &remaining);
      if (!stop && remaining.size() == before && !retried_) {
        Say("[ KEEP GOING ] the test child ended early without running a "
            "test; the run stops here");
        stopped_ = "no test child got further";
        stop = true;
      }
      if (!stop && settings_.max_stalls > 0 &&
          log_.count() >= settings_.max_stalls) {
        Say(absl::StrCat("[ KEEP GOING ] ", log_.count(),
                         " stalls and crashes: the run stops here (at most ",
                         settings_.max_stalls, ", from ",
                         settings_.max_stalls_origin, "); ", remaining.size(),
                         remaining.size() == 1 ? " test" : " tests",
                         " not run"));
        stopped_ = absl::StrCat("at most ", settings_.max_stalls,
                                " stalls and crashes");
        stop = true;
      }
      if (!stop && GTEST_FLAG_GET(fail_fast)) {
        // As GoogleTest does after a failure: the rest are skipped.
        for (int id : remaining) {
          const Test& t = tests_[id];
          gi::AddPart(
              *t.info->result(),
              testing::TestPartResult(testing::TestPartResult::kSkip,
                                      t.info->file(), t.info->line(), ""));
        }
        remaining.clear();
      }
    }
    // Never reached: "not run", as GoogleTest shows a test it did not run.
    for (int id : remaining) {
      const Test& t = tests_[id];
      gi::SetSelection(*t.info, /*matches_filter=*/true,
                       /*in_another_shard=*/false, /*should_run=*/false);
    }
    // A suite split between children: its record covers only the part
    // the last one ran. Its tests' own times cover all of it.
    for (const Test& t : tests_) {
      const testing::TestResult& r = *t.info->result();
      if (r.start_timestamp() == 0) continue;
      int64_t& start = suite_start_[t.suite_id];
      if (start == 0 || r.start_timestamp() < start) {
        start = r.start_timestamp();
      }
      test_sum_[t.suite_id] += r.elapsed_time();
    }
    for (size_t i = 0; i < suites_.size(); ++i) {
      if (suite_start_[i] != 0) {
        gi::SetStartTimestamp(*suites_[i], suite_start_[i]);
        gi::SetElapsed(*suites_[i], std::max(suite_elapsed_[i], test_sum_[i]));
      }
    }
  }

  KeepGoingPage* Page() { return static_cast<KeepGoingPage*>(page_memory_); }

  bool RunChild(const std::vector<int>& ids, int seed, ChildEnd* end) {
    // A byte per registered test: 1 for the child to run. Names would
    // make GoogleTest's filter in the child hash 100,000 of them.
    std::string list(tests_.size(), '\0');
    for (int id : ids) list[id] = 1;
    // The children write at the shared file offset: back to 0 with the
    // size, or the next child's records would follow a hole.
    if (ftruncate(list_fd_, 0) != 0 || ftruncate(results_fd_, 0) != 0 ||
        lseek(results_fd_, 0, SEEK_SET) != 0 ||
        pwrite(list_fd_, list.data(), list.size(), 0) !=
            static_cast<ssize_t>(list.size())) {
      return false;
    }
    memset(page_memory_, 0, sizeof(KeepGoingPage));
    new (page_memory_) KeepGoingPage;
    // A fresh log of plain passes, room for every test on the list.
    if (!passes_.Reset(static_cast<uint32_t>(ids.size()))) return false;

    const int64_t start_ns = MonotonicNowNs();
    std::vector<std::string> variables = {
        absl::StrCat(kChildVariable, "=",
                     ChildSpec(page_fd_, results_fd_, list_fd_, passes_.fd(),
                               seed, getpid(), run_start_ns_))};
    if (!child_report_path_.empty()) {
      unlink(child_report_path_.c_str());
      variables.push_back(
          absl::StrCat(kChildReportVariable, "=", child_report_path_));
    }
    const pid_t pid = SpawnTestChild(exe_, settings_.argv, variables);
    if (pid < 0) return false;
    WaitForTestChild(
        pid, start_ns, [this](int64_t now) { return Overran(now); }, end);
    return true;
  }

  // The child's phase ran past its limit plus the margin and no report
  // came (a report in progress gets longer).
  bool Overran(int64_t now) {
    const KeepGoingPage* page = Page();
    const ArmedPhase a = page->board.Read();
    if (!a.armed()) return false;
    const int64_t margin =
        page->board.frozen() ? settings_.report_margin_ns : settings_.margin_ns;
    return now > a.deadline_ns() + margin;
  }

  // What the last child recorded, into GoogleTest's tables; `ids` were its
  // tests. Marks each test with a result in *reported.
  void ApplyResults(const testing::UnitTest& unit, const std::vector<int>& ids,
                    std::vector<bool>* reported) {
    std::string text;
    (void)ReadWholeFile(results_fd_, &text);  // what could be read
    int bad = 0;
    for (const RecordedResult& r : DecodeRecords(text, &bad)) {
      if (r.kind == RecordedResult::Kind::kTest) {
        if (r.id < 0 || r.id >= static_cast<int>(tests_.size()) ||
            tests_[r.id].name != r.name) {
          continue;
        }
        ApplyRecord(r, *tests_[r.id].info->result(), "testcase");
        Reported(r.id, reported);
      } else if (r.kind == RecordedResult::Kind::kSuite) {
        if (r.id < 0 || r.id >= static_cast<int>(suites_.size()) ||
            suites_[r.id]->name() != r.name) {
          continue;
        }
        ApplyRecord(r, suites_[r.id]->ad_hoc_test_result(), "testsuite");
        if (suite_start_[r.id] == 0) suite_start_[r.id] = r.start_ms;
        suite_elapsed_[r.id] += r.elapsed_ms;
      } else {
        ApplyRecord(r, unit.ad_hoc_test_result(), "testsuites");
      }
    }
    // The plain passes: no name to check, so only a test on this child's
    // list and not yet reported counts (a test that wrote over the log
    // cannot pass another).
    std::vector<bool> listed(tests_.size(), false);
    for (int id : ids) listed[id] = true;
    for (const PlainPass& p : passes_.Take()) {
      if (p.id < 0 || p.id >= static_cast<int>(tests_.size()) ||
          !listed[p.id] || (*reported)[p.id]) {
        continue;
      }
      const testing::TestResult& result = *tests_[p.id].info->result();
      gi::SetStartTimestamp(result, p.start_ms);
      gi::SetElapsed(result, p.elapsed_ms);
      Reported(p.id, reported);
    }
  }

  // Test `id` has its result from this child.
  void Reported(int id, std::vector<bool>* reported) {
    (*reported)[id] = true;
    if (attempts_[id] == 0) return;
    // Ran again after its process ended early: flaky if it passed now
    // (docs/keep-going.md: it counts as passed, marked so).
    const testing::TestResult& result = *tests_[id].info->result();
    gi::AddProperty(result, "testcase", "gtest_watchdog_attempts",
                    absl::StrCat(attempts_[id] + 1));
    if (result.Passed()) {
      gi::AddProperty(result, "testcase", "gtest_watchdog_flaky", history_[id]);
      log_.Flaky(absl::StrCat(tests_[id].name, ": passed on attempt ",
                              attempts_[id] + 1, " (", history_[id], ")"));
    }
  }

  // The child ended before its iteration did. Fails what was running;
  // true when the run must stop.
  bool HandleEarlyEnd(const testing::UnitTest& unit, const ChildEnd& end,
                      ChildWhere where, std::vector<int>* remaining) {
    const KeepGoingPage* page = Page();
    const EarlyEnd e = DescribeEarlyEnd(*page, end, MonotonicNowNs());
    const int interrupt = e.interrupt;
    const bool interrupted = interrupt != 0;
    const std::string& label = e.label;
    const std::string& how = e.how;
    const std::string& why = e.why;
    std::string message = e.message;
    const int64_t phase_ns = e.phase_ns;
    // What the console says of it without a report's verdict.
    const std::string said = why.empty() ? how : why;
    log_.SetEnd(how, end.outside, child_report_);
    const int test_id = page->test_id.load(std::memory_order_relaxed);
    const int suite_id = page->suite_id.load(std::memory_order_relaxed);
    auto remove_if = [&](auto pred) {
      std::vector<int> left;
      for (int id : *remaining) {
        if (!pred(id)) left.push_back(id);
      }
      remaining->swap(left);
    };
    bool stop = interrupted;
    switch (where) {
      case ChildWhere::kTest: {
        if (test_id < 0 || test_id >= static_cast<int>(tests_.size())) break;
        const Test& t = tests_[test_id];
        const bool retry =
            !interrupted && attempts_[test_id] < settings_.retries;
        Record(label, t.name, message, said,
               Where("test", t.name, t.suite->name(), retry));
        if (retry) {
          // Stays in the list: first in GoogleTest's order of those left,
          // the next child runs it first.
          ++attempts_[test_id];
          absl::StrAppend(&history_[test_id],
                          history_[test_id].empty() ? "" : "; ", "attempt ",
                          attempts_[test_id], ": ", label, ": ", said);
          retried_ = true;
          Say(absl::StrCat("[ RETRY    ] ", t.name, ": attempt ",
                           attempts_[test_id] + 1, " of ",
                           settings_.retries + 1, ", in a fresh process"));
          break;
        }
        if (attempts_[test_id] > 0) {
          absl::StrAppend(&message, "\n(earlier attempts: ", history_[test_id],
                          ")");
          gi::AddProperty(*t.info->result(), "testcase",
                          "gtest_watchdog_attempts",
                          absl::StrCat(attempts_[test_id] + 1));
        }
        // The test's own location stands for where it stalled, which
        // only the message knows (as in a run without keep going).
        gi::AddPart(*t.info->result(),
                    testing::TestPartResult(
                        testing::TestPartResult::kFatalFailure, t.info->file(),
                        t.info->line(), message.c_str()));
        const int64_t ms = phase_ns / 1000000;
        gi::SetElapsed(*t.info->result(), ms);
        gi::SetStartTimestamp(*t.info->result(), WallMillis() - ms);
        if (suite_start_[t.suite_id] == 0) {
          suite_start_[t.suite_id] = WallMillis() - ms;
        }
        suite_elapsed_[t.suite_id] += ms;
        remove_if([&](int id) { return id == test_id; });
        to().OnTestEnd(*t.info);
        break;
      }
      case ChildWhere::kSuiteSetUp:
      case ChildWhere::kAfterTest: {
        if (suite_id < 0 || suite_id >= static_cast<int>(suites_.size())) {
          FailProgram(unit, message);
          Record(label, "(between test suites)", message, said,
                 Where("between-suites", "", ""));
          break;
        }
        const testing::TestSuite* suite = suites_[suite_id];
        if (suite_start_[suite_id] == 0) {
          suite_start_[suite_id] = WallMillis() - phase_ns / 1000000;
        }
        suite_elapsed_[suite_id] += phase_ns / 1000000;
        gi::AddFatalFailure(suite->ad_hoc_test_result(), message);
        // Before 1.16 GoogleTest's files leave a suite's own failure out:
        // the program's carries it too (gtest_internals.h).
        if (!gi::SuiteFailuresInOutput()) FailProgram(unit, message);
        bool left_in_suite = false;
        for (int id : *remaining) {
          left_in_suite |= tests_[id].suite_id == suite_id;
        }
        const bool set_up = where == ChildWhere::kSuiteSetUp;
        if (set_up) {
          // Its tests cannot run without it: skipped, as GoogleTest skips
          // them after a fatal failure in SetUpTestSuite.
          for (int id : *remaining) {
            if (tests_[id].suite_id != suite_id) continue;
            gi::AddPart(*tests_[id].info->result(),
                        testing::TestPartResult(
                            testing::TestPartResult::kSkip,
                            tests_[id].info->file(), tests_[id].info->line(),
                            "skipped: SetUpTestSuite did not finish"));
          }
          remove_if([&](int id) { return tests_[id].suite_id == suite_id; });
        }
        Record(label,
               absl::StrCat(suite->name(), set_up ? " (SetUpTestSuite)"
                                           : left_in_suite
                                               ? " (between its tests)"
                                               : " (TearDownTestSuite)"),
               message, said,
               Where(set_up          ? "suite-setup"
                     : left_in_suite ? "between-tests"
                                     : "suite-teardown",
                     "", suite->name()));
        break;
      }
      case ChildWhere::kStarting:
      case ChildWhere::kEnvironmentSetUp:
        FailProgram(unit, message);
        Record(label,
               where == ChildWhere::kStarting
                   ? "(the program's start, before any test)"
                   : "(the global environment's SetUp)",
               message, said,
               Where(where == ChildWhere::kStarting ? "start"
                                                    : "environment-setup",
                     "", ""));
        Say("[ KEEP GOING ] every test process would meet this: the run "
            "stops here");
        stopped_ = "every test process would meet the first";
        stop = true;
        break;
      case ChildWhere::kEnvironmentTearDown:
      case ChildWhere::kFinished:
        FailProgram(unit, message);
        Record(label,
               where == ChildWhere::kFinished
                   ? "(the program's end, after its tests)"
                   : "(the global environment's TearDown)",
               message, said,
               Where(where == ChildWhere::kFinished ? "end"
                                                    : "environment-teardown",
                     "", ""));
        break;
    }
    if (interrupted) {
      stopped_ = "interrupted";
      Say(absl::StrCat("[ KEEP GOING ] interrupted by ", SignalName(interrupt),
                       ": the run stops here"));
    } else if (!stop && !remaining->empty()) {
      Say(absl::StrCat("[ KEEP GOING ] a fresh process runs the ",
                       remaining->size(),
                       remaining->size() == 1 ? " test" : " tests", " left"));
    }
    return stop;
  }

  void FailProgram(const testing::UnitTest& unit, const std::string& message) {
    gi::AddFatalFailure(unit.ad_hoc_test_result(), message);
  }

  static RunIncident Where(const char* where, const std::string& test,
                           const std::string& suite, bool retried = false) {
    RunIncident i;
    i.where = where;
    i.test = test;
    i.suite = suite;
    i.retried = retried;
    return i;
  }

  void Record(const std::string& label, const std::string& where,
              const std::string& message, const std::string& said,
              RunIncident incident) {
    incident.iteration = iteration_;
    log_.Record(label, where, message, said, std::move(incident));
  }

  static void Say(const std::string& line) { IncidentLog::Say(line); }

  SupervisorSettings settings_;
  std::string filter_;
  int page_fd_ = -1;
  int results_fd_ = -1;
  int list_fd_ = -1;
  void* page_memory_ = nullptr;
  PlainPassFile passes_;  // the last child's plain passes
  std::string exe_;
  std::string output_file_;
  bool output_json_ = false;
  std::vector<Test> tests_;
  std::vector<const testing::TestSuite*> suites_;
  std::vector<int64_t> suite_elapsed_;
  std::vector<int64_t> suite_start_;
  std::vector<int64_t> test_sum_;  // per suite: its tests' times
  IncidentLog log_;
  std::vector<int> attempts_;         // per test id: runs that ended early
  std::vector<std::string> history_;  // per test id: how they ended
  bool retried_ = false;              // the last early end is being run again
  std::string stopped_;               // why this iteration stopped early, or ""
  int iteration_ = 0;
  int64_t run_start_ns_ = MonotonicNowNs();  // the whole run's start
  std::string child_report_dir_;  // private, for the children's reports
  std::string child_report_path_;
  std::string child_report_;  // the last child's report, or ""
};

}  // namespace

bool InstallSupervisor(const SupervisorSettings& settings, std::string* error) {
  testing::TestEventListeners& listeners =
      testing::UnitTest::GetInstance()->listeners();
  testing::TestEventListener* printer =
      listeners.Release(listeners.default_result_printer());
  if (printer == nullptr) printer = new testing::EmptyTestEventListener;
  auto supervisor =
      std::make_unique<Supervisor>(settings, printer, GTEST_FLAG_GET(filter));
  PrepareToSuperviseChildren();
  if (!supervisor->Open(error)) {
    listeners.Append(supervisor.release());
    return false;
  }
  // GoogleTest selects nothing here: no environment, suite or test of the
  // user's runs in the supervisor. The supervisor selects at each
  // iteration's start (keep_going/selection.h).
  GTEST_FLAG_SET(filter, "-*");
  listeners.Append(supervisor.release());
  return true;
}

}  // namespace gtest_watchdog_internal
