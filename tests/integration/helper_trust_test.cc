// The report helper's trust boundary (docs/threat-model.md): a binary run
// with only --gtest_watchdog_internal_report=N by anyone but its own stall
// path refuses (one line, non-zero exit, nothing read, traced or written,
// no test run); and the helper the stall path starts gets the environment
// of start-up, not one a test changed since.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kFlag[] = "--gtest_watchdog_internal_report";
// The helper's exit status when it refuses (kReportHelperRefused).
constexpr int kRefused = 6;

// A fresh directory for the JSON report a forged snapshot asks for.
class TempDir {
 public:
  TempDir() {
    std::string pattern = testing::TempDir() + "gtest_watchdog_trust_XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A snapshot as the stall path writes it (format version 4), about
// process `pid`, asking for a JSON report at `json_report`. Its one thread
// "exited", so even a helper that trusted it would ptrace nothing.
std::string ForgedSnapshot(pid_t pid, const std::string& json_report) {
  std::string hex;
  for (unsigned char c : json_report) {
    hex += "0123456789abcdef"[c >> 4];
    hex += "0123456789abcdef"[c & 15];
  }
  const std::string p = std::to_string(pid);
  return "gtest_watchdog-snapshot 5\nkind timeout\nphase test\n"
         "test Forged.Test\nsuite Forged\n"
         "limit_origin --gtest_watchdog_timeout\nlimit_ns 1000000000\n"
         "elapsed_ns 1000000000\npid " +
         p + "\ntest_tid " + p + "\nwatchdog_tid 0\ncolor 0\njson_report " +
         hex + "\nthread " + p +
         " S exited 0 -1 0 0 0 0 0 0 0 0\nname forged\nwchan 0\n"
         "cpu -1 -1 -1 -1\npcs 0\nend\n";
}

// Writes `text` to `fd` and rewinds it.
void Fill(int fd, const std::string& text) {
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
}

// Runs the stall program as a would-be helper on descriptor `fd` (which it
// inherits: not close-on-exec) and checks that it refused: promptly, with
// one line and kRefused, running no test.
ChildResult RunAsHelper(int fd) {
  ChildResult r = RunChild(
      {STALL_PROGRAM, std::string(kFlag) + "=" + std::to_string(fd)}, {}, 30);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_FALSE(r.signaled) << "signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.exit_code, kRefused) << r.err;
  EXPECT_LT(r.seconds, 10.0);
  EXPECT_THAT(r.err, ContainsRegex("^\\[ WATCHDOG \\] report helper: refused: "
                                   "[^\n]*\n$"));
  EXPECT_THAT(r.err, HasSubstr(kFlag));
  // No test ran: GoogleTest never got to main().
  EXPECT_THAT(r.out, Not(HasSubstr("[==========]")));
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN      ]")));
  return r;
}

TEST(HelperTrust, RefusesStandardInput) {
  const ChildResult r = RunAsHelper(0);
  // Whatever the harness's standard input is (a terminal, /dev/null, a
  // pipe, or closed), it is not read.
  EXPECT_THAT(r.err, ContainsRegex("refused: descriptor 0 is (not open|\"[^\n]*"
                                   "\", not the watchdog's \"/memfd:"
                                   "gtest_watchdog_snapshot \\(deleted\\)\")"));
}

TEST(HelperTrust, RefusesARegularFileHoldingASnapshot) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string snapshot = dir.path() + "/snapshot";
  const std::string report = dir.path() + "/report.json";
  // Not close-on-exec: the child inherits it. About us, its parent.
  const int fd = open(snapshot.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  Fill(fd, ForgedSnapshot(getpid(), report));
  const ChildResult r = RunAsHelper(fd);
  close(fd);
  EXPECT_THAT(r.err, HasSubstr("refused: descriptor " + std::to_string(fd) +
                               " is \"" + snapshot + "\""));
  EXPECT_FALSE(std::filesystem::exists(report)) << r.err;
}

// A memfd with the stall path's name passes the descriptor check, and we
// are the child's parent: the executable check is what refuses.
TEST(HelperTrust, RefusesASnapshotFromAnotherExecutable) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string report = dir.path() + "/report.json";
  const int fd = memfd_create("gtest_watchdog_snapshot", 0);
  ASSERT_GE(fd, 0);
  Fill(fd, ForgedSnapshot(getpid(), report));
  const ChildResult r = RunAsHelper(fd);
  close(fd);
  EXPECT_THAT(r.err, HasSubstr("refused: the parent process " +
                               std::to_string(getpid()) + " runs \""));
  EXPECT_THAT(r.err, HasSubstr("not this executable"));
  EXPECT_FALSE(std::filesystem::exists(report)) << r.err;
}

// The same executable as parent and a memfd of the right name pass the
// checks made before reading; the snapshot's pid (not the parent's) is
// what refuses.
TEST(HelperTrust, RefusesASnapshotAboutAnotherProcess) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string report = dir.path() + "/report.json";
  const ChildResult r = RunChild(
      {HELPER_TRUST_PROGRAM,
       "--gtest_filter=HelperTrust.StartsItselfAsHelperForAnotherProcess"},
      {"HELPER_TRUST_JSON=" + report}, 60);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("helper exit status " +
                               std::to_string(kRefused) + "\n"));
  EXPECT_THAT(
      r.err, HasSubstr("[ WATCHDOG ] report helper: refused: the "
                       "snapshot is about pid " +
                       std::to_string(getpid()) + ", not the parent process "));
  EXPECT_FALSE(std::filesystem::exists(report)) << r.err;
}

// The helper is started before its snapshot exists (the stall path starts
// it, then takes its census). It waits, reads the snapshot only at the go
// byte, and judges that snapshot: about its parent, a complete report (the
// JSON file written); about another process, refused; no go byte at all
// (the parent gave up), one line and nothing read or written.
ChildResult RunLateSnapshot(const std::string& late, const std::string& json) {
  ChildResult r = RunChild(
      {HELPER_TRUST_PROGRAM,
       "--gtest_filter=HelperTrust.StartsItselfAsHelperBeforeItsSnapshot"},
      {"HELPER_TRUST_JSON=" + json, "HELPER_TRUST_LATE=" + late}, 60);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("helper waited for the snapshot\n"));
  return r;
}

TEST(HelperEarly, ReportsOnASnapshotThatComesLate) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string report = dir.path() + "/report.json";
  const ChildResult r = RunLateSnapshot("self", report);
  EXPECT_THAT(r.out, HasSubstr("helper said done\n"));
  EXPECT_THAT(r.out, HasSubstr("helper exit status 0\n"));
  EXPECT_THAT(r.err, HasSubstr("Forged.Test"));
  EXPECT_THAT(r.err,
              HasSubstr("[ OUTPUT   ] JSON report written to " + report));
  EXPECT_TRUE(std::filesystem::exists(report)) << r.err;
}

TEST(HelperEarly, RefusesALateSnapshotAboutAnotherProcess) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string report = dir.path() + "/report.json";
  const ChildResult r = RunLateSnapshot("other", report);
  EXPECT_THAT(r.out, HasSubstr("helper exit status " +
                               std::to_string(kRefused) + "\n"));
  EXPECT_THAT(
      r.err, HasSubstr("[ WATCHDOG ] report helper: refused: the "
                       "snapshot is about pid " +
                       std::to_string(getpid()) + ", not the parent process "));
  EXPECT_FALSE(std::filesystem::exists(report)) << r.err;
}

// The exit status of a helper whose go byte never came (kReportHelperNoGo).
constexpr int kNoGo = 7;

TEST(HelperEarly, EndsWithoutReadingWhenTheGoNeverComes) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string report = dir.path() + "/report.json";
  const ChildResult r = RunLateSnapshot("nogo", report);
  EXPECT_THAT(r.out,
              HasSubstr("helper exit status " + std::to_string(kNoGo) + "\n"));
  EXPECT_THAT(r.err, ContainsRegex("\\[ WATCHDOG \\] report helper: the "
                                   "stalled process ended \\(or gave up\\) "
                                   "before its snapshot was complete; no "
                                   "report\n"));
  EXPECT_THAT(r.err, Not(HasSubstr("Forged")));
  EXPECT_FALSE(std::filesystem::exists(report)) << r.err;
}

// ---- the helper's environment ----

constexpr SourceMarkers Where(HELPER_TRUST_SOURCE);

// Runs the test that sets LD_PRELOAD to `preload`, then hangs.
ChildResult RunWithLatePreload(const std::string& preload) {
  return RunChild({HELPER_TRUST_PROGRAM,
                   "--gtest_filter=HelperTrust.SetsLdPreloadThenHangs",
                   "--gtest_watchdog_timeout=1"},
                  {"HELPER_TRUST_PRELOAD=" + preload}, 60);
}

void ExpectCompleteReport(const ChildResult& r) {
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_LT(r.seconds, 1 + 20.0);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] HelperTrust.SetsLdPreloadThenHangs"
                               ": test body still running after 1."));
  // Symbolized by the helper, with the file and line.
  EXPECT_THAT(r.err, HasSubstr("SleepForever()"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
  EXPECT_THAT(r.err, Not(HasSubstr("could not symbolize")));
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
}

// A library the test preloads after start-up would end the helper before
// it reports (and could do anything with its ptrace permission).
TEST(HelperEnv, HelperDoesNotLoadAPreloadSetByTheTest) {
  const ChildResult r = RunWithLatePreload(HOSTILE_PRELOAD);
  ExpectCompleteReport(r);
  EXPECT_THAT(r.err, Not(HasSubstr("hostile_preload")));
}

TEST(HelperEnv, LoaderNeverSeesAMissingPreloadSetByTheTest) {
  const ChildResult r =
      RunWithLatePreload("/nonexistent/gtest_watchdog_late_preload.so");
  ExpectCompleteReport(r);
  EXPECT_THAT(r.err, Not(HasSubstr("cannot be preloaded")));
  EXPECT_THAT(r.err, Not(HasSubstr("gtest_watchdog_late_preload")));
}

}  // namespace
}  // namespace gtest_watchdog_test
