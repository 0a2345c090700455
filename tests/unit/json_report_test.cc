// Tests for the JSON stall report (gtest_watchdog/report/json_report.h):
// field values from hand-built ReportModels, validation of the output
// against docs/report.schema.json with the same script the integration
// tests use, and WriteJsonReportFile's refusals.

#include "gtest_watchdog/report/json_report.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/base/report_file.h"
#include "model_builders.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace gtest_watchdog_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::json;

constexpr char kSourceDir[] = GTEST_WATCHDOG_SOURCE_DIR;

// A stalled process with something of everything: the test thread joining,
// the watchdog, two threads deadlocked on two mutexes, a condition-variable
// waiter, three identical pool threads, a thread that blocks our signal and
// has invalid UTF-8 in its name, and two child processes.
struct RichReport {
  Snapshot snap;
  ReportModel model;

  RichReport() {
    snap = TimeoutSnapshot("Bank.TransferWhileAuditing", "Bank", 1'500'000'000,
                           1'750'000'000);
    snap.pid = 100;
    snap.test_tid = 100;
    snap.watchdog_tid = 101;

    SnapshotThread test = Thread(100, "demo", 'S', StackStatus::kOk);
    InFutex(&test, 0x7f85ed0a7990, 0x89, "futex_do_wait");
    test.sig_blocked = 0x1000;
    test.pcs = {0x7f0000001000, 0x55000000a000};
    snap.threads.push_back(test);

    SnapshotThread watchdog =
        Thread(101, "gtest_watchdog", 'R', StackStatus::kSelf);
    watchdog.syscall_nr = kSyscallRunning;
    watchdog.sig_blocked = 0xfffffffe7ffbfeff;
    snap.threads.push_back(watchdog);

    SnapshotThread a = Thread(102, "transfer", 'S', StackStatus::kOk);
    InFutex(&a, 0x55ef3844da00, 0x80, "futex_do_wait");
    snap.threads.push_back(a);
    SnapshotThread b = Thread(103, "audit", 'S', StackStatus::kOk);
    InFutex(&b, 0x55ef3844da40, 0x80, "futex_do_wait");
    snap.threads.push_back(b);

    SnapshotThread cv = Thread(104, "cv-waiter", 'S', StackStatus::kOk);
    InFutex(&cv, 0x55ef3844db08, 0x89, "futex_do_wait");
    snap.threads.push_back(cv);

    for (pid_t tid : {105, 106, 107}) {
      SnapshotThread pool = Thread(tid, "pool", 'S', StackStatus::kOk);
      pool.syscall_nr = 230;  // clock_nanosleep
      pool.wchan = "hrtimer_nanosleep";
      snap.threads.push_back(pool);
    }

    SnapshotThread deaf = Thread(108,
                                 "bad\xff\xfe"
                                 "name",
                                 'D', StackStatus::kSignalsBlocked);
    deaf.syscall_nr = 0;                  // read
    deaf.kernel_pc = 0xffffffffffffff00;  // needs all 64 bits
    deaf.truncated = true;
    snap.threads.push_back(deaf);

    // Pointers into snap.threads: RichReport is neither copied nor moved.
    model = ModelOf(snap, StackSource::kSignal);
    model.part = TestPart::kBody;

    ThreadModel& t0 = model.threads[0];
    t0.frames = {
        Fn("__futex_abstimed_wait_common64", "./nptl/futex-internal.c", 57,
           true),
        InModule("std::thread::join()",
                 "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30", 0xd4516),
        Fn("(anonymous namespace)::Bank_TransferWhileAuditing_Test::"
           "TestBody()",
           "/src/examples/demo_deadlock.cc", 31),
        Fn("testing::Test::Run()", "/src/googletest/src/gtest.cc", 2687),
        InModule("", "/src/build/demo_deadlock", 0x10930),
    };
    t0.frames[2].column = 7;
    t0.wait = {WaitKind::kJoin, 0x7f85ed0a7990, 102, ""};

    model.threads[1].source = StackSource::kNone;
    model.threads[1].stack_note = "this is the watchdog thread";

    model.threads[2].frames = {
        Fn("(anonymous namespace)::Transfer()", "/src/demo.cc", 17)};
    model.threads[2].wait = {WaitKind::kMutex, 0x55ef3844da00, 103,
                             "(anonymous namespace)::accounts"};
    model.threads[3].frames = {
        Fn("(anonymous namespace)::Audit()", "/src/demo.cc", 23)};
    model.threads[3].wait = {WaitKind::kMutex, 0x55ef3844da40, 102,
                             "(anonymous namespace)::ledger"};
    model.cycles.push_back(DeadlockCycle{{2, 3}});

    model.threads[4].wait = {WaitKind::kCondition, 0x55ef3844db00, 0,
                             "queue_ready"};

    // A singleton group (the cv waiter) and a real one (the pool).
    model.groups.push_back(ThreadGroup{{4}});
    model.threads[4].group = 0;
    model.groups.push_back(ThreadGroup{{5, 6, 7}});
    for (int i : {5, 6, 7}) {
      model.threads[static_cast<size_t>(i)].group = 1;
      model.threads[static_cast<size_t>(i)].frames = {
          Fn("Pool::Idle()", "/src/pool.cc", 9)};
    }

    model.threads[8].source = StackSource::kKernelPc;
    model.threads[8].stack_note =
        "the thread blocks the signal the watchdog uses";
    model.threads[8].frames = {InModule("", "/opt/bad\xc3(module.so", 0x42)};

    model.children.push_back(ChildProcess{200, 100, 'S', "sleep 1000"});
    model.children.push_back(ChildProcess{201, 200, 'Z', ""});
    model.ptrace_note = "ptrace: Operation not permitted";

    // What the threads wait for, and how much CPU they used.
    snap.threads[2].cpu_ns = 1'000'000;
    snap.threads[2].queued_ns = 0;
    snap.threads[2].wakeups = 0;
    snap.threads[2].interval_ns = 250'000'000;
    BlockingCall& read = model.threads[8].call;
    read.kind = BlockKind::kFd;
    read.name = "read";
    FdFacts pipe;
    pipe.fd = 5;
    pipe.kind = "pipe";
    pipe.target = "pipe:[4711]";
    pipe.access = "read";
    pipe.other_end.push_back(FdHolder{100, 6, true, ""});
    pipe.other_end.push_back(FdHolder{200, 1, false, "sleep 1000"});
    pipe.text = "pipe (read end; write end held by this process (fd 6))";
    read.fds.push_back(pipe);
    read.text = "read() on fd 5: " + pipe.text;
    BlockingCall& sleep = model.threads[5].call;
    sleep.kind = BlockKind::kSleep;
    sleep.name = "clock_nanosleep";
    sleep.sleep_ns = 3'600'000'000'000;
    sleep.clock = "CLOCK_REALTIME";
    sleep.text = "clock_nanosleep() for 3600.00 s (CLOCK_REALTIME)";
    model.verdict.kind = VerdictKind::kDeadlock;
    model.verdict.chain = {0, 2, 3};
    model.verdict.culprit = 2;
    model.verdict.has_where = true;
    model.verdict.where = model.threads[2].frames[0];
    model.verdict.text = "deadlock: thread 100 ...";
  }
  RichReport(const RichReport&) = delete;
  RichReport& operator=(const RichReport&) = delete;
};

const Json& ThreadByTid(const Json& doc, pid_t tid) {
  for (const Json& t : doc.at("threads")) {
    if (t.at("tid") == tid) return t;
  }
  static const Json kNull;
  ADD_FAILURE() << "no thread " << tid;
  return kNull;
}

// ---- temp files and running the validator ----

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "json_report_test_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << strerror(errno);
    }
    // Without links (TEST_TMPDIR may have some): the report writer refuses
    // them, and tests compare against resolved paths.
    char real[PATH_MAX];
    path_ = realpath(tmpl.c_str(), real) != nullptr ? real : tmpl;
  }
  ~TempDir() {
    // Only what the tests create, newest first: a file registered after
    // its directory is removed before it.
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      if (unlink(it->c_str()) != 0) rmdir(it->c_str());
    }
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) {
    created_.push_back(path_ + "/" + name);
    return created_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> created_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

struct RunResult {
  int exit_code = -1;  // -1: did not exit normally
  std::string output;  // stdout and stderr
};

RunResult RunValidator(TempDir& dir, const std::string& report,
                       const std::vector<std::string>& extra = {}) {
  const std::string script =
      std::string(kSourceDir) + "/tests/integration/validate_json_report.py";
  const std::string schema =
      std::string(kSourceDir) + "/docs/report.schema.json";
  std::vector<std::string> args = {"python3", script, schema, report};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const std::string out_path = dir.File("validator.out");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int rc =
      posix_spawnp(&pid, "python3", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  RunResult result;
  if (rc != 0) {
    result.output = std::string("posix_spawnp python3: ") + strerror(rc);
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.output = ReadFile(out_path);
  return result;
}

// Exit status 3: no jsonschema module; do not report the schema as broken.
#define SKIP_IF_NO_JSONSCHEMA(r) \
  if ((r).exit_code == 3)        \
  GTEST_SKIP() << "python3-jsonschema missing: " << (r).output

// ---- FormatJsonReport: field values ----

TEST(JsonReportTest, PrettyPrintedWithTrailingNewline) {
  RichReport r;
  const std::string text = FormatJsonReport(r.model);
  EXPECT_THAT(text, StartsWith("{\n  \"schema_version\": 4,\n"));
  EXPECT_THAT(text, EndsWith("}\n"));
  EXPECT_EQ(text.find('\t'), std::string::npos);
}

TEST(JsonReportTest, Headline) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  EXPECT_EQ(doc.at("schema_version"), kJsonReportSchemaVersion);
  EXPECT_EQ(doc.at("generator").at("name"), "gtest_watchdog");
  EXPECT_EQ(doc.at("kind"), "timeout");
  EXPECT_EQ(doc.at("phase"), "test");
  EXPECT_EQ(doc.at("test"), "Bank.TransferWhileAuditing");
  EXPECT_EQ(doc.at("suite"), "Bank");
  EXPECT_EQ(doc.at("test_part"), "body");
  EXPECT_EQ(doc.at("limit_ns"), 1'500'000'000);
  EXPECT_DOUBLE_EQ(doc.at("limit_s").get<double>(), 1.5);
  EXPECT_EQ(doc.at("limit"), "1.5 s");
  EXPECT_EQ(doc.at("limit_origin"), "--gtest_watchdog_timeout");
  EXPECT_EQ(doc.at("elapsed_ns"), 1'750'000'000);
  EXPECT_DOUBLE_EQ(doc.at("elapsed_s").get<double>(), 1.75);
  EXPECT_EQ(doc.at("pid"), 100);
  EXPECT_EQ(doc.at("test_tid"), 100);
  EXPECT_EQ(doc.at("watchdog_tid"), 101);
  EXPECT_EQ(doc.at("ptrace_note"), "ptrace: Operation not permitted");
  // The text report's [ STALLED ] frame: the first one in user code.
  const Json& at = doc.at("stalled_at");
  EXPECT_EQ(at.at("function"),
            "(anonymous namespace)::Bank_TransferWhileAuditing_Test::"
            "TestBody()");
  EXPECT_EQ(at.at("file"), "/src/examples/demo_deadlock.cc");
  EXPECT_EQ(at.at("line"), 31);
  EXPECT_EQ(at.at("column"), 7);
}

TEST(JsonReportTest, GeneratorVersionMatchesProject) {
  // The constant in json_report.cc must follow project(VERSION).
  const std::string cmake =
      ReadFile(std::string(kSourceDir) + "/CMakeLists.txt");
  // Not <regex>: GCC 12 warns inside it under the sanitizers (-Werror).
  const size_t at = cmake.find("project(gtest_watchdog");
  ASSERT_NE(at, std::string::npos);
  const size_t v = cmake.find("VERSION", at);
  ASSERT_NE(v, std::string::npos);
  const size_t start = cmake.find_first_of("0123456789", v);
  const size_t end = cmake.find_first_not_of("0123456789.", start);
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  EXPECT_EQ(doc.at("generator").at("version"),
            cmake.substr(start, end - start));
}

TEST(JsonReportTest, TestThread) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  const Json& t = ThreadByTid(doc, 100);
  EXPECT_EQ(t.at("name"), "demo");
  EXPECT_EQ(t.at("state"), "S");
  EXPECT_EQ(t.at("state_name"), "sleeping");
  EXPECT_EQ(t.at("role"), "test");
  EXPECT_EQ(t.at("stack_source"), "signal");
  EXPECT_EQ(t.at("stack_status"), "ok");
  EXPECT_TRUE(t.at("stack_note").is_null());
  EXPECT_EQ(t.at("syscall").at("nr"), 202);
  EXPECT_EQ(t.at("syscall").at("name"), "futex");
  EXPECT_THAT(
      t.at("syscall").at("args"),
      ElementsAre("0x7f85ed0a7990", "0x89", "0x0", "0x0", "0x0", "0x0"));
  EXPECT_EQ(t.at("wchan"), "futex_do_wait");
  EXPECT_EQ(t.at("sig_blocked"), "0x1000");
  EXPECT_EQ(t.at("wait").at("kind"), "join");
  EXPECT_EQ(t.at("wait").at("owner_tid"), 102);
  EXPECT_TRUE(t.at("wait").at("lock_name").is_null());
  EXPECT_EQ(t.at("truncated"), false);
  EXPECT_TRUE(t.at("group").is_null());
  EXPECT_TRUE(t.at("kernel_pc").is_null());
  EXPECT_THAT(t.at("pcs"), ElementsAre("0x7f0000001000", "0x55000000a000"));

  const Json& frames = t.at("frames");
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[0].at("function"), "__futex_abstimed_wait_common64");
  EXPECT_EQ(frames[0].at("inlined"), true);
  EXPECT_TRUE(frames[0].at("module").is_null());
  EXPECT_TRUE(frames[0].at("offset").is_null());
  EXPECT_TRUE(frames[0].at("column").is_null());
  // No debug information: module and offset, ready for addr2line.
  EXPECT_EQ(frames[1].at("function"), "std::thread::join()");
  EXPECT_TRUE(frames[1].at("file").is_null());
  EXPECT_TRUE(frames[1].at("line").is_null());
  EXPECT_EQ(frames[1].at("module"),
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30");
  EXPECT_EQ(frames[1].at("offset"), "0xd4516");
  EXPECT_EQ(frames[1].at("inlined"), false);
  // Not even a symbol.
  EXPECT_TRUE(frames[4].at("function").is_null());
  EXPECT_EQ(frames[4].at("offset"), "0x10930");
}

TEST(JsonReportTest, WatchdogThread) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  const Json& t = ThreadByTid(doc, 101);
  EXPECT_EQ(t.at("role"), "watchdog");
  EXPECT_EQ(t.at("stack_source"), "none");
  EXPECT_EQ(t.at("stack_status"), "self");
  EXPECT_EQ(t.at("stack_note"), "this is the watchdog thread");
  EXPECT_TRUE(t.at("syscall").is_null());  // on a CPU
  EXPECT_TRUE(t.at("wchan").is_null());
  EXPECT_EQ(t.at("sig_blocked"), "0xfffffffe7ffbfeff");
  EXPECT_EQ(t.at("wait").at("kind"), "none");
  EXPECT_TRUE(t.at("wait").at("lock_addr").is_null());
  EXPECT_TRUE(t.at("wait").at("owner_tid").is_null());
  EXPECT_TRUE(t.at("frames").empty());
}

TEST(JsonReportTest, DeadlockCycle) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  ASSERT_EQ(doc.at("deadlocks").size(), 1u);
  const Json& d = doc.at("deadlocks")[0];
  EXPECT_THAT(d.at("threads"), ElementsAre(102, 103));
  ASSERT_EQ(d.at("locks").size(), 2u);
  // threads[i] waits for a lock held by threads[i + 1], wrapping around.
  EXPECT_EQ(d.at("locks")[0], Json::parse(R"({"addr": "0x55ef3844da00",
                            "name": "(anonymous namespace)::accounts",
                            "kind": "mutex", "held_by": 103,
                            "waited_by": 102})"));
  EXPECT_EQ(d.at("locks")[1], Json::parse(R"({"addr": "0x55ef3844da40",
                            "name": "(anonymous namespace)::ledger",
                            "kind": "mutex", "held_by": 102,
                            "waited_by": 103})"));
  const Json& a = ThreadByTid(doc, 102);
  EXPECT_EQ(a.at("wait").at("kind"), "mutex");
  EXPECT_EQ(a.at("wait").at("lock_addr"), "0x55ef3844da00");
  EXPECT_EQ(a.at("wait").at("owner_tid"), 103);
}

TEST(JsonReportTest, ConditionWaiterOwnsNothing) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  const Json& t = ThreadByTid(doc, 104);
  EXPECT_EQ(t.at("wait"), Json::parse(R"({"kind": "condition",
                                          "lock_addr": "0x55ef3844db00",
                                          "lock_name": "queue_ready",
                                          "owner_tid": null,
                                          "primitive": null,
                                          "timed": false})"));
  EXPECT_EQ(t.at("role"), "other");
}

TEST(JsonReportTest, EventWaitNamesItsPrimitive) {
  RichReport r;
  r.model.threads[0].wait = LockWait{WaitKind::kEvent, 0x55ef3844db10, 0,
                                     "g_ready", "absl::Notification", true};
  const Json doc = Json::parse(FormatJsonReport(r.model));
  const Json& w = doc.at("threads")[0].at("wait");
  EXPECT_EQ(w.at("kind"), "event");
  EXPECT_EQ(w.at("primitive"), "absl::Notification");
  EXPECT_EQ(w.at("timed"), true);
}

TEST(JsonReportTest, OnlyGroupsOfTwoOrMoreAreListed) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  // The model's group 0 holds one thread: not listed, its thread has no
  // group; the model's group 1 becomes index 0.
  ASSERT_EQ(doc.at("groups").size(), 1u);
  EXPECT_EQ(doc.at("groups")[0].at("count"), 3);
  EXPECT_THAT(doc.at("groups")[0].at("threads"), ElementsAre(105, 106, 107));
  EXPECT_TRUE(ThreadByTid(doc, 104).at("group").is_null());
  for (pid_t tid : {105, 106, 107}) {
    const Json& t = ThreadByTid(doc, tid);
    EXPECT_EQ(t.at("group"), 0) << tid;
    EXPECT_EQ(t.at("syscall").at("name"), "clock_nanosleep");
    // Every member is still listed in full.
    EXPECT_EQ(t.at("frames").size(), 1u);
  }
}

TEST(JsonReportTest, ThreadWithoutItsStack) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  const Json& t = ThreadByTid(doc, 108);
  EXPECT_EQ(t.at("state"), "D");
  EXPECT_EQ(t.at("state_name"), "uninterruptible sleep");
  EXPECT_EQ(t.at("stack_source"), "kernel-pc");
  EXPECT_EQ(t.at("stack_status"), "signals-blocked");
  EXPECT_THAT(t.at("stack_note").get<std::string>(), HasSubstr("blocks"));
  EXPECT_EQ(t.at("syscall").at("name"), "read");
  EXPECT_EQ(t.at("truncated"), true);
  // 64 bits survive: a JSON number would be rounded by double readers.
  EXPECT_EQ(t.at("kernel_pc"), "0xffffffffffffff00");
}

TEST(JsonReportTest, InvalidUtf8IsReplacedNotFatal) {
  RichReport r;
  const std::string text = FormatJsonReport(r.model);
  const Json doc = Json::parse(text);  // strict parser: throws on bad UTF-8
  EXPECT_EQ(ThreadByTid(doc, 108)
                .at("blocked_in")
                .at("fds")[0]
                .at("other_end")[1]
                .at("command"),
            "sleep 1000");
  EXPECT_EQ(ThreadByTid(doc, 105).at("blocked_in").at("sleep_ns"),
            3'600'000'000'000);
  EXPECT_EQ(ThreadByTid(doc, 102).at("cpu").at("percent"), 0.4);
  EXPECT_TRUE(ThreadByTid(doc, 103).at("cpu").is_null());
  EXPECT_TRUE(ThreadByTid(doc, 100).at("blocked_in").is_null());
  EXPECT_EQ(doc.at("verdict").at("kind"), "deadlock");
  EXPECT_EQ(doc.at("verdict").at("chain"), Json::array({100, 102, 103}));
  EXPECT_EQ(doc.at("verdict").at("thread"), 102);
  EXPECT_EQ(doc.at("verdict").at("where").at("line"), 17);
  EXPECT_EQ(ThreadByTid(doc, 108).at("name"),
            "bad\xEF\xBF\xBD\xEF\xBF\xBD"
            "name");
  EXPECT_THAT(
      ThreadByTid(doc, 108).at("frames")[0].at("module").get<std::string>(),
      HasSubstr("\xEF\xBF\xBD"));
}

TEST(JsonReportTest, Children) {
  RichReport r;
  const Json doc = Json::parse(FormatJsonReport(r.model));
  EXPECT_EQ(doc.at("children"), Json::parse(R"([
      {"pid": 200, "ppid": 100, "state": "S", "state_name": "sleeping",
       "command": "sleep 1000"},
      {"pid": 201, "ppid": 200, "state": "Z", "state_name": "zombie",
       "command": ""}])"));
}

TEST(JsonReportTest, NullsOutsideATest) {
  Snapshot snap;
  snap.kind = "total-timeout";
  snap.phase_id = "none";
  snap.limit_origin = "--gtest_watchdog_total_timeout";
  snap.limit_ns = 90'000'000'000;
  snap.elapsed_ns = 90'010'000'000;
  snap.pid = 42;
  snap.watchdog_tid = 43;
  snap.threads.push_back(Thread(42, "main", 'S', StackStatus::kOk));
  const ReportModel model = ModelOf(snap, StackSource::kSignal);
  const Json doc = Json::parse(FormatJsonReport(model));
  EXPECT_EQ(doc.at("kind"), "total-timeout");
  EXPECT_EQ(doc.at("phase"), "none");
  EXPECT_TRUE(doc.at("test").is_null());
  EXPECT_TRUE(doc.at("suite").is_null());
  EXPECT_TRUE(doc.at("test_tid").is_null());
  EXPECT_TRUE(doc.at("stalled_at").is_null());
  EXPECT_TRUE(doc.at("ptrace_note").is_null());
  EXPECT_EQ(doc.at("test_part"), "unknown");
  EXPECT_EQ(doc.at("limit"), "1 min 30 s");
  EXPECT_EQ(ThreadByTid(doc, 42).at("role"), "other");
  EXPECT_TRUE(ThreadByTid(doc, 42).at("syscall").is_null());  // unknown
}

TEST(JsonReportTest, ModelWithoutSnapshotStillFormats) {
  ReportModel model;
  const Json doc = Json::parse(FormatJsonReport(model));
  EXPECT_TRUE(doc.at("threads").empty());
}

// ---- the schema, through the integration tests' validator ----

TEST(JsonReportSchemaTest, RichReportValidates) {
  TempDir dir;
  RichReport r;
  const std::string path = dir.File("rich.json");
  WriteFile(path, FormatJsonReport(r.model));
  const RunResult res =
      RunValidator(dir, path,
                   {"--expect", "kind=timeout", "--expect",
                    "test=Bank.TransferWhileAuditing", "--expect",
                    "schema_version=4", "--expect", "threads.0.role=test",
                    "--expect", "threads.*.wait.kind=condition", "--expect",
                    "deadlocks.0.locks.1.held_by=102", "--expect",
                    "ptrace_note=ptrace: Operation not permitted"});
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 0) << res.output;
}

TEST(JsonReportSchemaTest, MinimalReportValidates) {
  TempDir dir;
  Snapshot snap;
  snap.kind = "total-timeout";
  snap.phase_id = "none";
  snap.limit_origin = "built-in default";
  snap.pid = 7;
  const ReportModel model = ModelOf(snap);
  const std::string path = dir.File("minimal.json");
  WriteFile(path, FormatJsonReport(model));
  const RunResult res = RunValidator(dir, path, {"--expect", "test=null"});
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 0) << res.output;
}

TEST(JsonReportSchemaTest, CrashReportValidatesAndCarriesTheSignal) {
  TempDir dir;
  RichReport r;
  r.snap.kind = "crash";
  // SIGSEGV at address 0 in thread 102, passed on to an earlier handler.
  r.snap.signal =
      SignalFacts{SIGSEGV, SEGV_MAPERR, 0, 0, 0, 102, 0x7ffd00000000, true};
  const std::string text = FormatJsonReport(r.model);
  const Json doc = Json::parse(text);
  const Json& sig = doc.at("signal");
  EXPECT_EQ(sig.at("number"), 11);
  EXPECT_EQ(sig.at("name"), "SIGSEGV");
  EXPECT_EQ(sig.at("description"), "address not mapped to object");
  EXPECT_EQ(sig.at("fault_address"), "0x0");
  EXPECT_TRUE(sig.at("sender_pid").is_null());
  EXPECT_EQ(sig.at("tid"), 102);
  EXPECT_EQ(sig.at("crashed_at").at("function"),
            "(anonymous namespace)::Transfer()");
  EXPECT_EQ(sig.at("stack_overflow"), false);
  EXPECT_EQ(sig.at("passed_to"), "previous-handler");
  EXPECT_EQ(doc.at("threads").at(2).at("role"), "signalled");
  const std::string path = dir.File("crash.json");
  WriteFile(path, text);
  const RunResult res = RunValidator(
      dir, path, {"--expect", "kind=crash", "--expect", "signal.name=SIGSEGV"});
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 0) << res.output;
}

TEST(JsonReportSchemaTest, SignalFromAnotherProcessHasASenderAndNoAddress) {
  RichReport r;
  r.snap.kind = "signal";
  // SIGTERM sent by pid 4321 (uid 1000), received by thread 100.
  r.snap.signal = SignalFacts{SIGTERM, SI_USER, 0, 4321, 1000, 100, 0, false};
  const Json doc = Json::parse(FormatJsonReport(r.model));
  const Json& sig = doc.at("signal");
  EXPECT_EQ(sig.at("name"), "SIGTERM");
  EXPECT_TRUE(sig.at("fault_address").is_null());
  EXPECT_EQ(sig.at("sender_pid"), 4321);
  EXPECT_EQ(sig.at("sender_uid"), 1000);
  EXPECT_EQ(sig.at("passed_to"), "default-action");
  // The test thread keeps its role.
  EXPECT_EQ(doc.at("threads").at(0).at("role"), "test");
}

TEST(JsonReportTest, TimeoutHasNoSignal) {
  RichReport r;
  EXPECT_TRUE(Json::parse(FormatJsonReport(r.model)).at("signal").is_null());
}

// The negative cases prove the validator really checks: a schema that
// accepted anything would pass the two tests above too.
TEST(JsonReportSchemaTest, MissingRequiredFieldFails) {
  TempDir dir;
  RichReport r;
  Json doc = Json::parse(FormatJsonReport(r.model));
  doc.at("threads")[2].at("wait").erase("owner_tid");
  doc.erase("schema_version");
  const std::string path = dir.File("missing.json");
  WriteFile(path, doc.dump(2));
  const RunResult res = RunValidator(dir, path);
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_THAT(res.output, HasSubstr("'schema_version' is a required property"));
  EXPECT_THAT(res.output, HasSubstr("$.threads[2].wait"));
  EXPECT_THAT(res.output, HasSubstr("'owner_tid' is a required property"));
}

TEST(JsonReportSchemaTest, UnknownFieldAndWrongTypeFail) {
  TempDir dir;
  RichReport r;
  Json doc = Json::parse(FormatJsonReport(r.model));
  doc.at("threads")[0]["surprise"] = 1;
  doc.at("threads")[0].at("wait")["lock_addr"] = 12345;  // must be hex text
  const std::string path = dir.File("extra.json");
  WriteFile(path, doc.dump(2));
  const RunResult res = RunValidator(dir, path);
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_THAT(res.output, HasSubstr("'surprise' was unexpected"));
  EXPECT_THAT(res.output, HasSubstr("$.threads[0].wait.lock_addr"));
}

TEST(JsonReportSchemaTest, FailedExpectationFails) {
  TempDir dir;
  RichReport r;
  const std::string path = dir.File("expect.json");
  WriteFile(path, FormatJsonReport(r.model));
  const RunResult res = RunValidator(
      dir, path, {"--expect", "kind=crash", "--expect", "no.such.key=1"});
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_THAT(res.output, HasSubstr("expected kind = crash, found $.kind = "
                                    "\"timeout\""));
  EXPECT_THAT(res.output, HasSubstr("has no no.such.key"));
}

TEST(JsonReportSchemaTest, NotJsonFails) {
  TempDir dir;
  const std::string path = dir.File("garbage.json");
  WriteFile(path, "{\"schema_version\": 1,");
  const RunResult res = RunValidator(dir, path);
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 1) << res.output;
  EXPECT_THAT(res.output, HasSubstr("not valid JSON"));
}

// The example in docs/report-json.md must be a valid report too.
TEST(JsonReportSchemaTest, DocumentationExampleValidates) {
  TempDir dir;
  const std::string doc =
      ReadFile(std::string(kSourceDir) + "/docs/report-json.md");
  // The first ```json block (its info string may carry attributes).
  const size_t fence = doc.find("```json");
  ASSERT_NE(fence, std::string::npos);
  const size_t begin = doc.find('\n', fence) + 1;
  const size_t end = doc.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  const std::string path = dir.File("example.json");
  WriteFile(path, doc.substr(begin, end - begin));
  const RunResult res = RunValidator(dir, path);
  SKIP_IF_NO_JSONSCHEMA(res);
  EXPECT_EQ(res.exit_code, 0) << res.output;
}

// Walks every object schema in `node`: calls `fn(where, object_schema)`.
template <typename Fn>
void ForEachObjectSchema(const Json& node, const std::string& where, Fn fn) {
  if (node.is_object()) {
    if (node.contains("properties")) fn(where, node);
    for (const auto& [key, value] : node.items())
      ForEachObjectSchema(value, where + "/" + key, fn);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i)
      ForEachObjectSchema(node[i], where + "/" + std::to_string(i), fn);
  }
}

// Every field is required and no other is allowed, so a field the code adds
// or drops fails validation; and every field is documented.
TEST(JsonReportSchemaTest, SchemaIsClosedAndEveryFieldIsDocumented) {
  const Json schema = Json::parse(
      ReadFile(std::string(kSourceDir) + "/docs/report.schema.json"));
  const std::string doc =
      ReadFile(std::string(kSourceDir) + "/docs/report-json.md");
  int objects = 0;
  ForEachObjectSchema(
      schema, "#", [&](const std::string& where, const Json& object) {
        ++objects;
        EXPECT_EQ(object.value("additionalProperties", true), false) << where;
        std::vector<std::string> properties;
        for (const auto& [key, value] : object.at("properties").items()) {
          properties.push_back(key);
          // As `key`, or as the last part of a path: `locks[].addr`.
          const bool documented =
              doc.find("`" + key + "`") != std::string::npos ||
              doc.find("." + key + "`") != std::string::npos;
          EXPECT_TRUE(documented)
              << where << ": field " << key << " is not in docs/report-json.md";
        }
        std::vector<std::string> required =
            object.value("required", std::vector<std::string>{});
        std::sort(properties.begin(), properties.end());
        std::sort(required.begin(), required.end());
        EXPECT_EQ(properties, required) << where;
      });
  EXPECT_GE(objects, 9);
}

// ---- WriteJsonReportFile ----

TEST(JsonReportFileTest, WritesAndReplacesARegularFile) {
  TempDir dir;
  const std::string path = dir.File("report.json");
  WriteFile(path, std::string(10000, 'x'));  // longer: must be truncated
  std::string error;
  ASSERT_TRUE(WriteJsonReportFile(path, "{}\n", &error)) << error;
  EXPECT_EQ(ReadFile(path), "{}\n");

  const std::string fresh = dir.File("fresh.json");
  const std::string big(1 << 20, 'y');  // more than one write() may take
  ASSERT_TRUE(WriteJsonReportFile(fresh, big, &error)) << error;
  EXPECT_EQ(ReadFile(fresh), big);
  struct stat st;
  ASSERT_EQ(stat(fresh.c_str(), &st), 0);
  const mode_t mask = umask(0);
  umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0644 & ~mask);
}

TEST(JsonReportFileTest, RefusesASymlink) {
  TempDir dir;
  const std::string target = dir.File("target.txt");
  WriteFile(target, "keep me");
  const std::string link = dir.File("link.json");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile(link, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr(link));
  EXPECT_THAT(error, HasSubstr("symbolic link"));
  EXPECT_EQ(ReadFile(target), "keep me");
}

TEST(JsonReportFileTest, RefusesADirectory) {
  TempDir dir;
  const std::string sub = dir.File("subdir");
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile(sub, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr(sub));
  EXPECT_THAT(error, HasSubstr("not a regular file"));
}

TEST(JsonReportFileTest, NewFileIs0644LessTheUmask) {
  TempDir dir;
  std::string error;
  for (const mode_t mask : {00, 022, 077}) {
    SCOPED_TRACE(mask);
    const std::string path = dir.File("umask" + std::to_string(mask));
    const mode_t old = umask(mask);
    const bool written = WriteJsonReportFile(path, "{}\n", &error);
    umask(old);
    ASSERT_TRUE(written) << error;
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    // Never more than 0644, even with umask 0: a report is not executable
    // and not for others to edit.
    EXPECT_EQ(st.st_mode & 07777, 0644 & ~mask);
  }
  // An existing file keeps its mode: the user chose it.
  const std::string kept = dir.File("kept.json");
  WriteFile(kept, "old");
  ASSERT_EQ(chmod(kept.c_str(), 0600), 0);
  ASSERT_TRUE(WriteJsonReportFile(kept, "{}\n", &error)) << error;
  struct stat st;
  ASSERT_EQ(stat(kept.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600);
}

TEST(JsonReportFileTest, RefusesAHardLinkWithoutTouchingIt) {
  TempDir dir;
  const std::string original = dir.File("original.txt");
  WriteFile(original, "precious bytes\n");
  const std::string report = dir.File("report.json");
  ASSERT_EQ(link(original.c_str(), report.c_str()), 0);
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile(report, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr(report));
  EXPECT_THAT(error, HasSubstr("regular file with 2 hard links"));
  // Both names keep their bytes: nothing was truncated before the check.
  EXPECT_EQ(ReadFile(original), "precious bytes\n");
  EXPECT_EQ(ReadFile(report), "precious bytes\n");
}

TEST(JsonReportFileTest, RefusesAFileOfAnotherUser) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to chown a file to another user (uid 65534)";
  }
  TempDir dir;
  const std::string path = dir.File("theirs.json");
  WriteFile(path, "their bytes");
  ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0) << strerror(errno);
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile(path, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr(path));
  EXPECT_THAT(error, HasSubstr("belongs to uid 65534, not to this user"));
  EXPECT_EQ(ReadFile(path), "their bytes");
}

TEST(JsonReportFileTest, RefusesADanglingSymlinkWithoutCreatingItsTarget) {
  TempDir dir;
  const std::string target = dir.File("target.json");
  const std::string link = dir.File("link.json");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile(link, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr("symbolic link"));
  EXPECT_NE(access(target.c_str(), F_OK), 0) << "target created";
}

TEST(JsonReportFileTest, RefusesASymlinkedDirectory) {
  TempDir dir;
  const std::string real = dir.File("real");
  ASSERT_EQ(mkdir(real.c_str(), 0755), 0);
  const std::string link = dir.File("link");
  ASSERT_EQ(symlink("real", link.c_str()), 0);
  const std::string written = dir.File("real/r.json");
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile(link + "/r.json", "{}\n", &error));
  EXPECT_THAT(error, HasSubstr("its directory '" + link +
                               "' is a symbolic link; the report is written "
                               "only through real directories"));
  EXPECT_NE(access(written.c_str(), F_OK), 0) << "written through the link";
  // The same directory by its real name is fine.
  EXPECT_TRUE(WriteJsonReportFile(written, "{}\n", &error)) << error;
}

// A directory every user may change is the setup's own choice when we or
// root made it so (a Kubernetes emptyDir volume is 0777): accepted. Another
// user's is a trap: refused, there and above.
TEST(JsonReportFileTest, RefusesADirectoryOfAnotherUserEveryUserMayChange) {
  TempDir dir;
  const std::string open_dir = dir.File("open");
  ASSERT_EQ(mkdir(open_dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);  // mkdir's mode meets umask
  const std::string path = dir.File("open/r.json");
  std::string error;
  EXPECT_TRUE(WriteJsonReportFile(path, "{}\n", &error)) << error;
  ASSERT_EQ(unlink(path.c_str()), 0);
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to chown a directory to another user "
                    "(uid 65534)";
  }
  ASSERT_EQ(chown(open_dir.c_str(), 65534, 65534), 0) << strerror(errno);
  EXPECT_FALSE(WriteJsonReportFile(path, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr("its directory '" + open_dir +
                               "' belongs to uid 65534 and may be changed by "
                               "any user (mode 0777"));
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  // With the sticky bit, like /tmp: others cannot rename or remove our file.
  ASSERT_EQ(chmod(open_dir.c_str(), 01777), 0);
  EXPECT_TRUE(WriteJsonReportFile(path, "{}\n", &error)) << error;
  // Above the directory too: a component anyone may swap is refused.
  const std::string below = dir.File("open/mine");
  ASSERT_EQ(mkdir(below.c_str(), 0755), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  EXPECT_FALSE(WriteJsonReportFile(below + "/r.json", "{}\n", &error));
  EXPECT_THAT(error, HasSubstr("'" + open_dir + "' belongs to uid 65534"));
}

// Root in a container writing below the CI user's workspace: allowed, but
// never through a file that user planted there.
TEST(JsonReportFileTest, WritesIntoADirectoryOfAnotherUserNotIntoTheirFile) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to chown a directory to another user "
                    "(uid 65534)";
  }
  TempDir dir;
  const std::string theirs = dir.File("theirs");
  ASSERT_EQ(mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(chown(theirs.c_str(), 65534, 65534), 0) << strerror(errno);
  const std::string path = dir.File("theirs/r.json");
  std::string error;
  EXPECT_TRUE(WriteJsonReportFile(path, "{}\n", &error)) << error;
  ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0) << strerror(errno);
  EXPECT_FALSE(WriteJsonReportFile(path, "{\"new\": 1}\n", &error));
  EXPECT_THAT(error, HasSubstr("it belongs to uid 65534, not to this user"));
  EXPECT_EQ(ReadFile(path), "{}\n");
}

TEST(JsonReportFileTest, RefusesAFifoWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  std::string error;
  // No reader: a blocking open would hang here forever.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(WriteJsonReportFile(fifo, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr(fifo));
  EXPECT_THAT(error, HasSubstr("not a regular file"));

  // With a reader the open succeeds; the type check must still refuse.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  error.clear();
  EXPECT_FALSE(WriteJsonReportFile(fifo, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr(fifo));
  EXPECT_THAT(error, HasSubstr("not a regular file"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  char byte;
  EXPECT_LE(read(reader, &byte, 1), 0) << "something was written";
  close(reader);
}

TEST(JsonReportFileTest, MissingDirectoryNamesThePath) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/report.json");
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile(path, "{}\n", &error));
  EXPECT_THAT(error, HasSubstr(path));
  EXPECT_THAT(
      error, HasSubstr("its directory '" + dir.path() + "/no' does not exist"));
}

TEST(JsonReportFileTest, RefusesARelativePath) {
  std::string error;
  EXPECT_FALSE(WriteJsonReportFile("r.json", "{}\n", &error));
  EXPECT_THAT(error, HasSubstr("'r.json': it is not an absolute path"));
}

// ---- OpenReportDirectory (shared by the writer and ResolveReportPath) ----

TEST(OpenReportDirectoryTest, ResolvesOwnLinksOnlyWhenAskedTo) {
  TempDir dir;
  const std::string real = dir.File("real");
  ASSERT_EQ(mkdir(real.c_str(), 0755), 0);
  const std::string rel = dir.File("rel");
  ASSERT_EQ(symlink("real", rel.c_str()), 0);
  const std::string abs = dir.File("abs");
  ASSERT_EQ(symlink((rel + "/../real/.").c_str(), abs.c_str()), 0);
  struct stat want;
  ASSERT_EQ(stat(real.c_str(), &want), 0);
  for (const std::string& given : {real, rel, abs, real + "/../rel/"}) {
    SCOPED_TRACE(given);
    std::string canonical;
    std::string why;
    const int fd =
        OpenReportDirectory(given, /*follow_links=*/true, &canonical, &why);
    ASSERT_GE(fd, 0) << why;
    struct stat got;
    EXPECT_EQ(fstat(fd, &got), 0);
    EXPECT_EQ(got.st_ino, want.st_ino);
    EXPECT_EQ(canonical, real);
    close(fd);
    canonical.clear();
    const int strict =
        OpenReportDirectory(given, /*follow_links=*/false, &canonical, &why);
    if (given == real) {
      EXPECT_GE(strict, 0) << why;
      EXPECT_EQ(canonical, real);
    } else {
      EXPECT_LT(strict, 0);
      EXPECT_THAT(why, HasSubstr("is a symbolic link"));
    }
    if (strict >= 0) close(strict);
  }
}

TEST(OpenReportDirectoryTest, RefusesLinkLoopsAndFiles) {
  TempDir dir;
  const std::string loop = dir.File("loop");
  ASSERT_EQ(symlink("loop", loop.c_str()), 0);
  const std::string file = dir.File("file");
  WriteFile(file, "x");
  std::string canonical;
  std::string why;
  EXPECT_LT(OpenReportDirectory(loop, true, &canonical, &why), 0);
  EXPECT_THAT(why, HasSubstr("too many levels of symbolic links"));
  EXPECT_LT(OpenReportDirectory(file, true, &canonical, &why), 0);
  EXPECT_THAT(why, HasSubstr("'" + file + "' on its path is not a directory"));
}

TEST(OpenReportDirectoryTest, RefusesALinkOfAnotherUser) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a link to another user (uid 65534)";
  }
  TempDir dir;
  const std::string link = dir.File("link");
  ASSERT_EQ(symlink(".", link.c_str()), 0);
  ASSERT_EQ(lchown(link.c_str(), 65534, 65534), 0) << strerror(errno);
  std::string canonical;
  std::string why;
  EXPECT_LT(OpenReportDirectory(link, true, &canonical, &why), 0);
  EXPECT_THAT(why, HasSubstr("'" + link +
                             "' on its path is a symbolic link owned by uid "
                             "65534"));
}

}  // namespace
}  // namespace gtest_watchdog_internal
