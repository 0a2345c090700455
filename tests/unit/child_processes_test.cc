// Tests for listing and ending the processes a test started
// (gtest_watchdog/dump/child_processes.h): the parsers, and real children
// spawned here (a sleep, a shell with a grandchild, a shell ignoring
// SIGTERM).

#include "gtest_watchdog/dump/child_processes.h"

#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/diagnose/report_model.h"

extern char** environ;

namespace gtest_watchdog_internal {
namespace {

using ::testing::Contains;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Parsers.
// ---------------------------------------------------------------------------

std::vector<pid_t> ParseChildren(const std::string& text, int capacity = 16) {
  std::vector<pid_t> out(static_cast<size_t>(capacity));
  const int n =
      ParseChildrenList(text.data(), text.size(), out.data(), capacity);
  out.resize(static_cast<size_t>(n));
  return out;
}

TEST(ChildProcessParseTest, ChildrenList) {
  EXPECT_EQ(ParseChildren("123 456 7890 "),
            (std::vector<pid_t>{123, 456, 7890}));
  EXPECT_EQ(ParseChildren("42"), (std::vector<pid_t>{42}));
  EXPECT_EQ(ParseChildren("1 2\n"), (std::vector<pid_t>{1, 2}));
  EXPECT_EQ(ParseChildren(""), std::vector<pid_t>{});
  EXPECT_EQ(ParseChildren(" \n"), std::vector<pid_t>{});
}

TEST(ChildProcessParseTest, ChildrenListHonoursCapacityAndLength) {
  EXPECT_EQ(ParseChildren("1 2 3 4", 2), (std::vector<pid_t>{1, 2}));
  EXPECT_EQ(ParseChildren("1 2 3 4", 0), std::vector<pid_t>{});
  const char text[] = "11 22 33";
  pid_t out[4];
  // Only "11 2" is visible: the cut number counts as it stands.
  ASSERT_EQ(ParseChildrenList(text, 4, out, 4), 2);
  EXPECT_EQ(out[0], 11);
  EXPECT_EQ(out[1], 2);
}

struct StatFields {
  bool ok = false;
  pid_t ppid = -99;
  char state = '?';
};

StatFields ParseStat(const std::string& stat) {
  StatFields f;
  f.ok = ParseStatPpid(stat.data(), stat.size(), &f.ppid, &f.state);
  return f;
}

TEST(ChildProcessParseTest, StatPpidAndState) {
  StatFields f = ParseStat("4242 (sleep) S 4200 4242 4200 0 -1 4194304");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.ppid, 4200);
  EXPECT_EQ(f.state, 'S');
  f = ParseStat("1 (init) S 0 1 1 0");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.ppid, 0);
  f = ParseStat("77 (true) Z 76 77 76 0");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.ppid, 76);
  EXPECT_EQ(f.state, 'Z');
}

TEST(ChildProcessParseTest, StatWithOddComm) {
  // comm is whatever the program set (prctl, the file name): spaces, ')',
  // digits and a fake "state ppid" inside must not fool the parser.
  StatFields f = ParseStat("77 (a) S 9 (b)) R 1234 77 77 0");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.ppid, 1234);
  EXPECT_EQ(f.state, 'R');
  f = ParseStat("8 (my server) T 5 8 8");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.ppid, 5);
  EXPECT_EQ(f.state, 'T');
  f = ParseStat("8 ()) D 3 8");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.ppid, 3);
  EXPECT_EQ(f.state, 'D');
  f = ParseStat("8 (() S 6 8");
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.ppid, 6);
}

TEST(ChildProcessParseTest, MalformedStat) {
  EXPECT_FALSE(ParseStat("").ok);
  EXPECT_FALSE(ParseStat("12 (sleep").ok);
  EXPECT_FALSE(ParseStat("12 (sleep)").ok);
  EXPECT_FALSE(ParseStat("12 (sleep) S").ok);
  EXPECT_FALSE(ParseStat("12 (sleep) S ").ok);
  EXPECT_FALSE(ParseStat("12 (sleep) S x").ok);
  EXPECT_FALSE(ParseStat("12 (sleep)S 1").ok);
}

TEST(ChildProcessParseTest, StatHonoursLength) {
  const std::string stat = "12 (a) S 34 (b) R 56 0";
  pid_t ppid = 0;
  char state = '?';
  // Only "12 (a) S 34" is visible: the later ')' must not be seen.
  ASSERT_TRUE(ParseStatPpid(stat.data(), 11, &ppid, &state));
  EXPECT_EQ(ppid, 34);
  EXPECT_EQ(state, 'S');
}

TEST(ChildProcessParseTest, CommFromStat) {
  const auto comm = [](const std::string& s) {
    return CommFromStat(s.data(), s.size());
  };
  EXPECT_EQ(comm("12 (sleep) S 1"), "sleep");
  EXPECT_EQ(comm("12 (my ) prog) S 1"), "my ) prog");
  EXPECT_EQ(comm("12 () S 1"), "");
  EXPECT_EQ(comm("12 sleep S 1"), "");
  EXPECT_EQ(comm("12 ) (x S 1"), "");
}

TEST(ChildProcessParseTest, CommandFromCmdline) {
  using namespace std::string_literals;
  EXPECT_EQ(CommandFromCmdline("sleep\0"s
                               "30\0"s),
            "sleep 30");
  EXPECT_EQ(CommandFromCmdline("/bin/sh\0-c\0sleep 30 & wait\0"s),
            "/bin/sh -c sleep 30 & wait");
  EXPECT_EQ(CommandFromCmdline("a\0\0b\0"s), "a  b");  // an empty argument
  EXPECT_EQ(CommandFromCmdline("server --title\0"s), "server --title");
  EXPECT_EQ(CommandFromCmdline("two\nlines\0"s), "two lines");
  EXPECT_EQ(CommandFromCmdline(""), "");
  EXPECT_EQ(CommandFromCmdline("\0"s), "");
  const std::string longer(kMaxCommandChars + 10, 'x');
  const std::string cut = CommandFromCmdline(longer);
  EXPECT_EQ(cut.size(), kMaxCommandChars);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  EXPECT_EQ(CommandFromCmdline(std::string(kMaxCommandChars, 'y')).size(),
            kMaxCommandChars);
}

// ---------------------------------------------------------------------------
// Real processes.
// ---------------------------------------------------------------------------

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// True if `pid` has stopped running: vanished, or a zombie.
bool Finished(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  pid_t ppid;
  char state = '?';
  if (!ParseStatPpid(stat.data(), stat.size(), &ppid, &state)) return true;
  return state == 'Z' || state == 'X';
}

char StateOf(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  pid_t ppid;
  char state = '?';
  ParseStatPpid(stat.data(), stat.size(), &ppid, &state);
  return state;
}

bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::vector<pid_t> Descendants(pid_t root, pid_t exclude = 0) {
  std::vector<pid_t> out(1024);
  const int n =
      ListDescendants(root, exclude, out.data(), static_cast<int>(out.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

// Direct children of single-threaded `pid`, read independently of the code
// under test.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/task/" +
                                 std::to_string(pid) + "/children"));
  return std::vector<pid_t>(std::istream_iterator<pid_t>(in), {});
}

// Starts processes tagged with an environment variable unique to this test,
// so that TearDown can find and kill every one of them, even those orphaned
// (reparented away from us) when a test fails halfway.
class SpawningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    marker_ = "GTEST_WATCHDOG_CHILD_TEST=" + std::to_string(getpid()) + "-" +
              std::to_string(counter++);
  }

  void TearDown() override {
    for (int round = 0; round < 100; ++round) {
      const std::vector<pid_t> left = Marked();
      for (pid_t pid : left) kill(pid, SIGKILL);
      for (pid_t pid : spawned_) waitpid(pid, nullptr, WNOHANG);
      if (left.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (pid_t pid : spawned_) waitpid(pid, nullptr, WNOHANG);
  }

  pid_t Spawn(std::vector<std::string> args,
              const posix_spawnattr_t* attr = nullptr) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.push_back(marker_);
    std::vector<char*> envp;
    for (std::string& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const std::string path = args[0] == "sh" ? "/bin/sh" : "/bin/" + args[0];
    const int rc = posix_spawn(&pid, path.c_str(), nullptr, attr, argv.data(),
                               envp.data());
    EXPECT_EQ(rc, 0) << path;
    if (rc != 0) return -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      spawned_.push_back(pid);
    }
    // posix_spawn returns once the new program is mapped, a moment before
    // the kernel knows its arguments: wait for /proc/PID/cmdline.
    EXPECT_TRUE(WaitUntil([&] {
      return !ReadFile("/proc/" + std::to_string(pid) + "/cmdline").empty() ||
             Finished(pid);
    }));
    return pid;
  }

  // The first child of `parent`, waited for (a shell starts it soon).
  pid_t WaitForChild(pid_t parent) {
    pid_t child = 0;
    EXPECT_TRUE(WaitUntil([&] {
      const std::vector<pid_t> kids = ChildrenOf(parent);
      if (kids.empty()) return false;
      child = kids[0];
      // Past exec (not the shell's forked copy) and with its arguments set.
      const std::string dir = "/proc/" + std::to_string(child);
      return ReadFile(dir + "/comm") != "sh\n" &&
             !ReadFile(dir + "/cmdline").empty();
    })) << "no child of "
        << parent;
    return child;
  }

  // Live (not zombie) processes carrying this test's marker.
  std::vector<pid_t> Marked() const {
    std::vector<pid_t> out;
    std::istringstream pids(ReadDirPids());
    for (pid_t pid; pids >> pid;) {
      const std::string env =
          ReadFile("/proc/" + std::to_string(pid) + "/environ");
      // A zombie's environ reads empty, so only live processes match.
      if (env.find(std::string(1, '\0') + marker_ + '\0') !=
              std::string::npos ||
          env.compare(0, marker_.size() + 1, marker_ + '\0') == 0) {
        out.push_back(pid);
      }
    }
    return out;
  }

  std::vector<pid_t> spawned_;
  std::string marker_;

 private:
  static std::string ReadDirPids() {
    std::string out;
    if (auto* dir = opendir("/proc")) {
      while (dirent* d = readdir(dir)) {
        if (d->d_name[0] >= '1' && d->d_name[0] <= '9') {
          out += d->d_name;
          out += ' ';
        }
      }
      closedir(dir);
    }
    return out;
  }

  std::mutex mu_;
};

// ListDescendants ----------------------------------------------------------

class ListDescendantsTest : public SpawningTest {};

TEST_F(ListDescendantsTest, FindsChildrenAndGrandchildren) {
  const pid_t sleeper = Spawn({"sleep", "30"});
  const pid_t shell = Spawn({"sh", "-c", "sleep 30 & wait"});
  ASSERT_GT(sleeper, 0);
  ASSERT_GT(shell, 0);
  const pid_t grandchild = WaitForChild(shell);
  ASSERT_GT(grandchild, 0);

  const std::vector<pid_t> found = Descendants(getpid());
  EXPECT_THAT(found, Contains(sleeper));
  EXPECT_THAT(found, Contains(shell));
  EXPECT_THAT(found, Contains(grandchild));
  EXPECT_THAT(found, Not(Contains(getpid())));
  // Breadth-first: the parent comes first.
  const auto at = [&](pid_t pid) {
    return std::find(found.begin(), found.end(), pid) - found.begin();
  };
  EXPECT_LT(at(shell), at(grandchild));

  // Rooted at the shell: its child only.
  EXPECT_EQ(Descendants(shell), std::vector<pid_t>{grandchild});
  EXPECT_EQ(Descendants(sleeper), std::vector<pid_t>{});
}

TEST_F(ListDescendantsTest, ExcludesAProcessAndItsDescendants) {
  const pid_t sleeper = Spawn({"sleep", "30"});
  const pid_t shell = Spawn({"sh", "-c", "sleep 30 & wait"});
  const pid_t grandchild = WaitForChild(shell);
  ASSERT_GT(grandchild, 0);

  const std::vector<pid_t> found = Descendants(getpid(), shell);
  EXPECT_THAT(found, Contains(sleeper));
  EXPECT_THAT(found, Not(Contains(shell)));
  EXPECT_THAT(found, Not(Contains(grandchild)));
}

TEST_F(ListDescendantsTest, StatScanFallbackAgrees) {
  const pid_t sleeper = Spawn({"sleep", "30"});
  const pid_t shell = Spawn({"sh", "-c", "sleep 30 & wait"});
  const pid_t grandchild = WaitForChild(shell);
  ASSERT_GT(grandchild, 0);

  std::vector<pid_t> found(1024);
  const int n = ListDescendantsByStatScan(getpid(), 0, found.data(),
                                          static_cast<int>(found.size()));
  ASSERT_GE(n, 3);
  found.resize(static_cast<size_t>(n));
  EXPECT_THAT(found, Contains(sleeper));
  EXPECT_THAT(found, Contains(shell));
  EXPECT_THAT(found, Contains(grandchild));
  EXPECT_LT(std::find(found.begin(), found.end(), shell),
            std::find(found.begin(), found.end(), grandchild));
  std::vector<pid_t> via_children = Descendants(getpid());
  std::sort(found.begin(), found.end());
  std::sort(via_children.begin(), via_children.end());
  EXPECT_EQ(found, via_children);

  found.assign(1024, 0);
  const int m = ListDescendantsByStatScan(getpid(), shell, found.data(),
                                          static_cast<int>(found.size()));
  found.resize(static_cast<size_t>(std::max(m, 0)));
  EXPECT_THAT(found, Contains(sleeper));
  EXPECT_THAT(found, Not(Contains(shell)));
  EXPECT_THAT(found, Not(Contains(grandchild)));
}

TEST_F(ListDescendantsTest, FindsChildrenOfOtherThreads) {
  // A child belongs to the thread that started it: only that thread's
  // children file lists it while the thread lives.
  std::mutex mu;
  std::condition_variable cv;
  pid_t child = 0;
  bool listed = false;
  std::thread starter([&] {
    const pid_t pid = Spawn({"sleep", "30"});
    std::unique_lock<std::mutex> lock(mu);
    child = pid;
    cv.notify_all();
    cv.wait(lock, [&] { return listed; });
  });
  std::vector<pid_t> found;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return child != 0; });
    found = Descendants(getpid());
    listed = true;
    cv.notify_all();
  }
  starter.join();
  ASSERT_GT(child, 0);
  EXPECT_THAT(found, Contains(child));
}

// With more than twice as many threads as the host has processes,
// ListDescendants scans /proc/*/stat instead of one children file per
// thread: the same descendants, parents first.
TEST_F(ListDescendantsTest, ManyThreadsFindTheSameByTheStatScan) {
  int processes = 0;
  if (DIR* dir = opendir("/proc")) {
    while (dirent* d = readdir(dir)) {
      processes += d->d_name[0] >= '1' && d->d_name[0] <= '9';
    }
    closedir(dir);
  }
  const int want = 2 * processes + 200;  // room for processes started meanwhile
  if (want > 4000) GTEST_SKIP() << processes << " processes on this host";
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < want; ++i) {
    threads.emplace_back([&] {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return release; });
    });
  }
  const pid_t sleeper = Spawn({"sleep", "30"});
  const pid_t shell = Spawn({"sh", "-c", "sleep 30 & wait"});
  const pid_t grandchild = WaitForChild(shell);
  const std::vector<pid_t> found = Descendants(getpid());
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  ASSERT_GT(grandchild, 0);
  EXPECT_THAT(found, Contains(sleeper));
  EXPECT_THAT(found, Contains(shell));
  EXPECT_THAT(found, Contains(grandchild));
  EXPECT_LT(std::find(found.begin(), found.end(), shell),
            std::find(found.begin(), found.end(), grandchild));
}

TEST_F(ListDescendantsTest, CapacityAndBadRoot) {
  Spawn({"sleep", "30"});
  Spawn({"sleep", "30"});
  pid_t one[1] = {0};
  EXPECT_EQ(ListDescendants(getpid(), 0, one, 1), 1);
  EXPECT_GT(one[0], 0);
  EXPECT_EQ(ListDescendants(getpid(), 0, one, 0), 0);
  // Above any pid_max (at most 2^22): never a process.
  EXPECT_EQ(ListDescendants(1 << 30, 0, one, 1), -1);
  EXPECT_EQ(ListDescendants(0, 0, one, 1), -1);
}

// ListChildProcesses --------------------------------------------------------

class ChildProcessesTest : public SpawningTest {};

const ChildProcess* Find(const std::vector<ChildProcess>& list, pid_t pid) {
  for (const ChildProcess& c : list) {
    if (c.pid == pid) return &c;
  }
  return nullptr;
}

TEST_F(ChildProcessesTest, CommandLinesInTreeOrder) {
  const pid_t shell = Spawn({"sh", "-c", "sleep 30 & wait"});
  const pid_t sleeper = Spawn({"sleep", "30"});
  const pid_t grandchild = WaitForChild(shell);
  ASSERT_GT(grandchild, 0);

  const std::vector<ChildProcess> list = ListChildProcesses(getpid(), 0);
  const ChildProcess* s = Find(list, sleeper);
  const ChildProcess* sh = Find(list, shell);
  const ChildProcess* g = Find(list, grandchild);
  ASSERT_NE(s, nullptr);
  ASSERT_NE(sh, nullptr);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(s->command, "sleep 30");
  EXPECT_EQ(s->ppid, getpid());
  EXPECT_EQ(sh->command, "sh -c sleep 30 & wait");
  EXPECT_EQ(sh->ppid, getpid());
  EXPECT_EQ(g->command, "sleep 30");
  EXPECT_EQ(g->ppid, shell);
  EXPECT_NE(std::string("SRD").find(g->state), std::string::npos) << g->state;
  // Depth-first: the shell's child follows the shell directly, even though
  // the sleeper (a sibling of the shell) was found before it.
  EXPECT_EQ(g, sh + 1);
}

TEST_F(ChildProcessesTest, ExcludedTreeIsLeftOut) {
  const pid_t shell = Spawn({"sh", "-c", "sleep 30 & wait"});
  const pid_t sleeper = Spawn({"sleep", "30"});
  const pid_t grandchild = WaitForChild(shell);
  ASSERT_GT(grandchild, 0);

  const std::vector<ChildProcess> list = ListChildProcesses(getpid(), shell);
  EXPECT_NE(Find(list, sleeper), nullptr);
  EXPECT_EQ(Find(list, shell), nullptr);
  EXPECT_EQ(Find(list, grandchild), nullptr);
}

TEST_F(ChildProcessesTest, ZombieShownByItsName) {
  const pid_t done = Spawn({"true"});
  ASSERT_GT(done, 0);
  ASSERT_TRUE(WaitUntil([&] { return StateOf(done) == 'Z'; }));

  const std::vector<ChildProcess> list = ListChildProcesses(getpid(), 0);
  const ChildProcess* z = Find(list, done);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->state, 'Z');
  EXPECT_EQ(z->command, "[true]");
}

TEST_F(ChildProcessesTest, BadRootGivesNothing) {
  EXPECT_TRUE(ListChildProcesses(1 << 30, 0).empty());
}

// FreezeDescendants ---------------------------------------------------------

class FreezeDescendantsTest : public SpawningTest {};

TEST_F(FreezeDescendantsTest, StopsChildrenAndGrandchildren) {
  const pid_t sleeper = Spawn({"sleep", "30"});
  const pid_t shell = Spawn({"sh", "-c", "sleep 30 & wait"});
  const pid_t grandchild = WaitForChild(shell);
  ASSERT_GT(grandchild, 0);
  std::vector<pid_t> out(64);
  const int n =
      FreezeDescendants(getpid(), out.data(), static_cast<int>(out.size()));
  ASSERT_GE(n, 3);
  out.resize(static_cast<size_t>(n));
  for (pid_t pid : {sleeper, shell, grandchild}) {
    EXPECT_THAT(out, Contains(pid));
    EXPECT_TRUE(WaitUntil([&] { return StateOf(pid) == 'T'; })) << pid;
  }
}

TEST_F(FreezeDescendantsTest, CatchesProcessesStartedMeanwhile) {
  // A loop that starts a new sleep every 10 ms: whatever it started between
  // the first listing and its own stop is found by listing again, so after
  // the call nothing in the tree still runs.
  const pid_t outer = Spawn({"sh", "-c", "while :; do sleep 0.01; done"});
  ASSERT_GT(outer, 0);
  ASSERT_TRUE(WaitUntil([&] { return !Descendants(outer).empty(); }));
  std::vector<pid_t> out(64);
  const int n =
      FreezeDescendants(outer, out.data(), static_cast<int>(out.size()));
  kill(outer, SIGSTOP);
  ASSERT_GE(n, 0);
  out.resize(static_cast<size_t>(n));
  for (pid_t pid : Descendants(outer)) {
    EXPECT_THAT(out, Contains(pid));
    EXPECT_TRUE(WaitUntil([&] {
      const char st = StateOf(pid);
      return st == 'T' || st == 'Z' || st == '?';
    })) << pid;
  }
}

TEST_F(FreezeDescendantsTest, LeavesTheExcludedChildAndItsChildrenAlone) {
  // The report helper is a child of the stalled process too: stopping it
  // would leave it stopped for ever, holding the report's pipe open.
  const pid_t helper = Spawn({"sh", "-c", "sleep 30 & wait"});
  const pid_t helper_child = WaitForChild(helper);
  ASSERT_GT(helper_child, 0);
  const pid_t sleeper = Spawn({"sleep", "30"});
  std::vector<pid_t> out(64);
  const int n = FreezeDescendants(getpid(), out.data(),
                                  static_cast<int>(out.size()), helper);
  ASSERT_GE(n, 1);
  out.resize(static_cast<size_t>(n));
  EXPECT_THAT(out, Contains(sleeper));
  EXPECT_THAT(out, Not(Contains(helper)));
  EXPECT_THAT(out, Not(Contains(helper_child)));
  EXPECT_TRUE(WaitUntil([&] { return StateOf(sleeper) == 'T'; }));
  EXPECT_EQ(StateOf(helper), 'S');
  EXPECT_NE(StateOf(helper_child), 'T');
}

TEST_F(FreezeDescendantsTest, BadRootGivesMinusOne) {
  pid_t out[4];
  EXPECT_EQ(FreezeDescendants(0x7ffffff0, out, 4), -1);
}

}  // namespace
}  // namespace gtest_watchdog_internal
