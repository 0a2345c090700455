// InitGoogleTest: flags first, then GoogleTest, then the limits, then the
// watchdog.

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/config/config_file.h"
#include "gtest_watchdog/config/duration.h"
#include "gtest_watchdog/config/limits.h"
#include "gtest_watchdog/config/options.h"
#include "gtest_watchdog/config/pattern.h"
#include "gtest_watchdog/config/timeout_list.h"
#include "gtest_watchdog/gtest_output/after_stall.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"
#include "gtest_watchdog/gtest_watchdog.h"
#include "gtest_watchdog/helper/report_helper.h"
#include "gtest_watchdog/keep_going/child.h"
#include "gtest_watchdog/keep_going/supervisor.h"
#include "gtest_watchdog/report/color_choice.h"
#include "gtest_watchdog/spdlog_include.h"
#include "gtest_watchdog/stall/fatal_signals.h"
#include "gtest_watchdog/stall/stall_reporter.h"
#include "gtest_watchdog/watch/deadline_board.h"
#include "gtest_watchdog/watch/listener.h"
#include "gtest_watchdog/watch/watchdog.h"

// GoogleTest 1.12 or later, whichever copy the project supplied (CMake
// checks the version when it can: cmake/GtestWatchdogDependencies.cmake).
// GTEST_FLAG_GET and GTEST_FLAG_SET arrived in 1.12.
#if !defined(GTEST_FLAG_GET) || !defined(GTEST_FLAG_SET)
#error "gtest_watchdog needs GoogleTest 1.12 or later (no GTEST_FLAG_GET)"
#endif

namespace gtest_watchdog {
namespace {

namespace wi = ::gtest_watchdog_internal;

[[noreturn]] void FailStartup(const std::string& message) {
  const std::string line = "gtest_watchdog: " + message + "\n";
  wi::WriteAll(2, line.data(), line.size());
  std::exit(2);
}

// Ordinary start-up notices (never used on the stall path).
void Notice(const std::string& text) {
  static auto logger = [] {
    auto l = std::make_shared<spdlog::logger>(
        "gtest_watchdog", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    return l;
  }();
  logger->info(text);
  logger->flush();
}

std::string LimitText(int64_t ns) {
  return ns == 0 ? "off" : wi::FormatLimit(absl::Nanoseconds(ns));
}

// The signals reported before the process dies by them, and where that
// choice came from: flag > environment > config file > built-in default.
struct SignalChoice {
  wi::SignalSet set = wi::DefaultSignals();
  std::string origin = "built-in default";
};

SignalChoice ChooseSignals(const wi::Options& options,
                           const wi::ConfigFile* file) {
  SignalChoice choice;
  if (options.signals) {
    choice.set = *options.signals.value;
    choice.origin = options.signals.origin;
  } else if (file != nullptr && file->signals) {
    choice.set = *file->signals;
    choice.origin = absl::StrCat(file->path, ":", file->signals_line);
  }
  return choice;
}

// The listing on stdout; a tool reading it must not get half of it.
void WriteListing(const std::string& text) {
  if (fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
      fflush(stdout) != 0) {
    FailStartup("--gtest_watchdog_list_timeouts: cannot write to stdout");
  }
}

// --gtest_watchdog_list_timeouts: every test --gtest_filter selects, with its
// limit and where it came from, then (in the table) the other phases.
void ListTimeouts(const wi::LimitPlan& plan, const SignalChoice& signals,
                  wi::ListFormat format) {
  wi::FilterPattern filter;
  std::string why;
  const std::string gtest_filter = GTEST_FLAG_GET(filter);
  // A filter we cannot read would list tests GoogleTest would not run.
  if (!wi::FilterPattern::Parse(gtest_filter.empty() ? "*" : gtest_filter,
                                &filter, &why)) {
    FailStartup(absl::StrCat("--gtest_filter: invalid value '", gtest_filter,
                             "' for --gtest_watchdog_list_timeouts: ", why));
  }
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  const bool tsv = format == wi::ListFormat::kTsv;
  std::string out = tsv ? wi::TimeoutTsvHeader() : "";
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const testing::TestInfo& info = *suite.GetTestInfo(j);
      wi::ListedTest test;
      test.suite = info.test_suite_name();
      test.name = info.name();
      if (info.type_param() != nullptr) test.type_param = info.type_param();
      if (info.value_param() != nullptr) test.value_param = info.value_param();
      if (!filter.Matches(absl::StrCat(test.suite, ".", test.name))) {
        continue;
      }
      out += tsv ? wi::TimeoutTsvRow(plan, test, GTEST_FLAG_GET(repeat))
                 : wi::TimeoutTableRow(plan, test);
    }
  }
  if (tsv) {
    WriteListing(out);
    return;
  }
  absl::StrAppendFormat(&out, "%-50s %-12s %s\n",
                        "(SetUpTestSuite/TearDownTestSuite)",
                        LimitText(plan.suite().ns), plan.suite().origin);
  absl::StrAppendFormat(
      &out, "%-50s %-12s %s\n", "(global environment SetUp/TearDown)",
      LimitText(plan.environment().ns), plan.environment().origin);
  absl::StrAppendFormat(&out, "%-50s %-12s %s\n", "(whole run)",
                        LimitText(plan.total().ns), plan.total().origin);
  absl::StrAppendFormat(&out, "%-50s %-12s %s\n", "(slow-test warning)",
                        LimitText(plan.slow().ns), plan.slow().origin);
  absl::StrAppendFormat(&out, "%-50s %s (from %s)\n",
                        "(signals reported before the process dies)",
                        wi::FormatSignalSet(signals.set), signals.origin);
  WriteListing(out);
}

// `board_storage`: where the board goes (a test child's shared page), or
// null for a board of its own. `run_start_ns`: when the whole run began (a
// keep-going run's, for a test child), 0 for now.
void Install(const wi::LimitPlan* plan, const wi::Options& options,
             const SignalChoice& signals, wi::DeadlineBoard* board_storage,
             int64_t run_start_ns) {
  static bool installed = false;
  if (installed) return;
  installed = true;

  // Switched off everywhere: no limit and no signal to report.
  if (!plan->AnyLimit() && signals.set == 0) return;

  // Never destroyed: the watchdog thread outlives static destruction. Held
  // by static pointers so leak checkers see them as reachable.
  static wi::DeadlineBoard* board = nullptr;
  static wi::Watchdog* watchdog = nullptr;
  wi::StallPathSettings settings;
  settings.color = wi::ReportUsesColor(GTEST_FLAG_GET(color).c_str(),
                                       std::getenv("NO_COLOR"),
                                       std::getenv("TERM"), isatty(2) == 1);
  if (options.report) settings.json_report = *options.report.value;
  wi::PrepareGtestOutput();
  board = board_storage != nullptr ? board_storage : new wi::DeadlineBoard;
  // Before the stall path picks its real-time signals: one the user chose
  // here is then taken, and the stall path picks another.
  std::string error;
  if (!wi::FatalSignals::Install(signals.set, board, &error)) {
    FailStartup(absl::StrCat("cannot install the signal handlers (",
                             wi::FormatSignalSet(signals.set), " from ",
                             signals.origin, "): ", error));
  }
  // ReportHelperLinked(): a static link keeps the helper's object file,
  // and with it the constructor that makes this program its own helper.
  if (!wi::ReportHelperLinked() || !wi::StallReporter::Prepare(settings)) {
    Notice(
        "[ WATCHDOG ] no free real-time signal or resources for the stall "
        "report; stall reports will list threads without their stacks");
  }
  board->set_test_thread(static_cast<pid_t>(syscall(SYS_gettid)));
  board->set_slow_ns(plan->slow().ns);
  wi::TotalLimit total;
  total.start_ns = run_start_ns != 0 ? run_start_ns : wi::MonotonicNowNs();
  total.limit_ns = plan->total().ns;
  total.origin = plan->total().origin;
  watchdog = new wi::Watchdog(board, plan->ShortestEvent(),
                              &wi::StallReporter::ReportAndAbort,
                              &wi::StallReporter::AttachWatchdogThread,
                              &wi::StallReporter::WarnSlow, total);
  watchdog->set_request_handler(&wi::StallReporter::ReportSignal);
  wi::SetInstalledBoard(board);
  watchdog->Start();
  wi::FatalSignals::SetReporterStarted();
  testing::UnitTest::GetInstance()->listeners().Append(
      new wi::WatchdogListener(board, plan));
}

}  // namespace

void InitGoogleTest(int* argc, char** argv) {
  // Everything below lives as long as the process (the watchdog thread and
  // listener read it). Static pointers keep it reachable for leak checkers.
  static wi::Options* options = nullptr;
  static wi::ConfigFile* file = nullptr;
  static wi::LimitPlan* plan = nullptr;
  options = new wi::Options;
  // As main() got them, ours included: a keep-going run's test children
  // get them again.
  std::vector<std::string> original_argv(argv, argv + *argc);
  std::string error;
  if (!wi::ExtractOptions(
          argc, argv,
          [](const char* name) -> const char* { return std::getenv(name); },
          options, &error)) {
    FailStartup(error);
  }
  testing::InitGoogleTest(argc, argv);
  // GoogleTest printed its help and will run nothing: ours follows, on the
  // same stream, and nothing else is needed. Write errors are ignored, as
  // GoogleTest's own help ignores them.
  if (wi::gtest_internals::HelpRequested()) {
    (void)std::fputs(wi::FlagHelp(wi::gtest_internals::StdoutInColor()).c_str(),
                     stdout);
    (void)std::fflush(stdout);
    return;
  }

  // A death-test child of either style never reports: the "threadsafe"
  // child (re-executed with --gtest_internal_run_death_test) installs no
  // watchdog, and a "fast" (forked) child has no watchdog thread. The
  // parent's watchdog covers the whole death test, child included.
  if (wi::gtest_internals::IsDeathTestChild()) return;

  if (options->config) {
    file = new wi::ConfigFile;
    if (!wi::LoadConfigFile(*options->config.value, file, &error)) {
      FailStartup(absl::StrCat(error, " (config file from ",
                               options->config.origin, ")"));
    }
  }
  wi::LimitPlan::Inputs inputs;
  inputs.options = options;
  inputs.file = file;
  inputs.annotations = wi::RegisteredAnnotations();
  inputs.runtime = wi::DetectSlowRuntime();
  inputs.bazel_test_timeout = std::getenv("TEST_TIMEOUT");
  plan = new wi::LimitPlan;
  if (!plan->Build(inputs, &error)) FailStartup(error);

  const SignalChoice signals = ChooseSignals(*options, file);
  if (options->list_timeouts != wi::ListFormat::kNone) {
    ListTimeouts(*plan, signals, options->list_timeouts);
    std::exit(0);
  }
  if (!plan->notice().empty()) Notice(plan->notice());

  if (wi::IsTestChild()) {
    // The supervisor gathers the children's reports into the user's file.
    if (const char* report = std::getenv(wi::kChildReportVariable)) {
      options->report.value = report;
      options->report.origin = wi::kChildReportVariable;
      unsetenv(wi::kChildReportVariable);
    }
    int64_t run_start_ns = 0;
    wi::KeepGoingPage* page = wi::SetUpTestChild(&run_start_ns, &error);
    if (page == nullptr) FailStartup(error);
    // The whole-run limit counts from the supervisor's start.
    Install(plan, *options, signals, &page->board, run_start_ns);
    return;
  }
  const bool keep_going =
      options->keep_going ? *options->keep_going.value
                          : file != nullptr && file->keep_going.value_or(false);
  // Listing runs nothing: GoogleTest lists as usual.
  if (keep_going && !GTEST_FLAG_GET(list_tests)) {
    wi::SupervisorSettings settings;
    settings.argv = std::move(original_argv);
    if (options->max_stalls) {
      settings.max_stalls = *options->max_stalls.value;
      settings.max_stalls_origin = options->max_stalls.origin;
    } else if (file != nullptr && file->max_stalls) {
      settings.max_stalls = *file->max_stalls;
      settings.max_stalls_origin = file->path;
    }
    if (options->report) settings.report_path = *options->report.value;
    settings.total_ns = plan->total().ns;
    settings.total_origin = plan->total().origin;
    if (options->retries) {
      settings.retries = *options->retries.value;
    } else if (file != nullptr && file->retries) {
      settings.retries = *file->retries;
    }
    if (!wi::InstallSupervisor(settings, &error)) FailStartup(error);
    return;
  }
  Install(plan, *options, signals, nullptr, 0);
}

}  // namespace gtest_watchdog
