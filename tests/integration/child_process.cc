#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace gtest_watchdog_test {

namespace {

struct SignalOnMarker {
  std::string marker;  // empty: never
  int signo = 0;
  bool kill_group_when_reaped = true;
};

ChildResult Run(const std::vector<std::string>& argv,
                const std::vector<std::string>& env, double kill_after_s,
                bool read_stderr, const SignalOnMarker& on_marker) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    vars[kv.substr(0, kv.find('='))] = kv;
  }
  // Deterministic limits in sanitizer builds too; a test about scaling
  // overrides this with its own entry (or a flag, which wins).
  vars["GTEST_WATCHDOG_SCALE"] = "GTEST_WATCHDOG_SCALE=1";
  for (const std::string& kv : env) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      vars.erase(kv);
    } else {
      vars[kv.substr(0, eq)] = kv;
    }
  }
  std::vector<char*> envp;
  for (auto& [name, kv] : vars) envp.push_back(kv.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argvp;
  for (std::string& a : args) argvp.push_back(a.data());
  argvp.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  pipe2(out_pipe, O_CLOEXEC);
  pipe2(err_pipe, O_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  // Its own process group: whatever it leaves behind (a death-test child,
  // the report helper) is killed with it at the end.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  ChildResult result;
  if (posix_spawn(&pid, argvp[0], &actions, &attr, argvp.data(), envp.data()) !=
      0) {
    result.err = "spawn failed: " + argv[0];
    return result;
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);

  bool reaped = false;
  bool signalled = false;
  int status = 0;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0},
                   {read_stderr ? err_pipe[0] : -1, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = read_stderr ? 2 : 1;
  while (open_fds > 0) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (elapsed > kill_after_s && !result.killed_by_harness) {
      kill(-pid, SIGKILL);
      result.killed_by_harness = true;
    }
    // The child ended but something it left holds our pipes: end that too.
    int ended = 0;
    if (!reaped && waitpid(pid, &ended, WNOHANG) == pid) {
      reaped = true;
      status = ended;
      if (on_marker.kill_group_when_reaped) kill(-pid, SIGKILL);
    }
    if (!signalled && !reaped && !on_marker.marker.empty() &&
        result.err.find(on_marker.marker) != std::string::npos) {
      kill(pid, on_marker.signo);
      signalled = true;
    }
    if (poll(fds, 2, 100) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      char buf[65536];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (!on_marker.kill_group_when_reaped && !reaped) {
    kill(-pid, SIGKILL);  // what is left of it, now that its pipes closed
  }
  if (reaped) {
    // status is already set
  } else if (read_stderr) {
    waitpid(pid, &status, 0);
  } else {
    // stdout may close before the child ends: keep the harness's limit.
    while (waitpid(pid, &status, WNOHANG) == 0) {
      const double elapsed = std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
      if (elapsed > kill_after_s && !result.killed_by_harness) {
        kill(-pid, SIGKILL);
        result.killed_by_harness = true;
      }
      usleep(20000);
    }
    close(err_pipe[0]);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (WIFSIGNALED(status)) {
    result.signaled = true;
    result.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace

ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::string>& env, double kill_after_s,
                     bool read_stderr) {
  return Run(argv, env, kill_after_s, read_stderr, SignalOnMarker());
}

ChildResult RunChildAndSignal(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env,
                              const std::string& marker, int signo,
                              double kill_after_s) {
  return Run(argv, env, kill_after_s, true, SignalOnMarker{marker, signo});
}

ChildResult RunChildUntilPipesClose(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env,
                                    double kill_after_s) {
  SignalOnMarker options;
  options.kill_group_when_reaped = false;
  return Run(argv, env, kill_after_s, true, options);
}

int MarkerLine(const std::string& source, const std::string& name) {
  std::ifstream in(source);
  std::string line;
  const std::string marker = "// @block:" + name;
  for (int n = 1; std::getline(in, line); ++n) {
    const size_t at = line.find(marker);
    if (at != std::string::npos &&
        line.size() == at + marker.size()) {  // exact, not a prefix
      return n;
    }
  }
  return 0;
}

std::string MarkerLocation(const std::string& source, const std::string& name) {
  const int line = MarkerLine(source, name);
  EXPECT_GT(line, 0) << "marker " << name << " not found in " << source;
  return source.substr(source.rfind('/') + 1) + ":" + std::to_string(line);
}

void ExpectAbortedPromptly(const ChildResult& r, double limit_s) {
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_GE(r.seconds, limit_s * 0.9);
  EXPECT_LT(r.seconds, limit_s + kSlack);
  EXPECT_THAT(r.err, testing::HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
  EXPECT_THAT(r.err, testing::Not(testing::HasSubstr("could not symbolize")));
}

void ExpectCrashEndedBy(const ChildResult& r, int sig, double within_s) {
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_LT(r.seconds, within_s);
  if (kSanitizerOwnsFaults &&
      (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE)) {
    EXPECT_EQ(r.exit_code, kSanitizerExitCode) << r.err;
  } else {
    EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
    EXPECT_EQ(r.signal, sig) << r.err;
  }
}

void ExpectEndedByTheDeadMan(const ChildResult& r, int signo) {
  EXPECT_FALSE(r.killed_by_harness);
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code;
  if (signo != 0) {
    EXPECT_EQ(r.signal, signo);
  }
  EXPECT_GE(r.seconds, 30);
  EXPECT_LT(r.seconds, 32 + kSlack);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

std::string TempPath(const std::string& prefix, const std::string& name) {
  const std::string path =
      testing::TempDir() + prefix + "_" + name + "_" + std::to_string(getpid());
  std::remove(path.c_str());
  return path;
}

bool ProcessRunning(int pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() &&
         stat[paren + 2] != 'Z' && stat[paren + 2] != 'X';
}

bool StopsRunningWithin(int pid, double seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (ProcessRunning(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string ThreadHeader(const std::string& err, const std::string& what) {
  for (const std::string& line : Lines(err)) {
    if (line.rfind("Thread ", 0) == 0 && line.find(what) != std::string::npos)
      return line;
  }
  return "";
}

std::string TidOf(const std::string& err, const std::string& name) {
  for (const std::string& line : Lines(err)) {
    if (line.rfind("Thread ", 0) != 0) continue;
    const size_t space = line.find(' ', 7);
    if (space == std::string::npos || space == 7) continue;
    if (line.compare(space, name.size() + 3, " \"" + name + "\"") == 0)
      return line.substr(7, space - 7);
  }
  return "";
}

std::string JoinedVerdict(const std::string& err) {
  const std::vector<std::string> lines = Lines(err);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("[ VERDICT  ] ", 0) != 0) continue;
    std::string block = lines[i];
    for (size_t j = i + 1;
         j < lines.size() && lines[j].rfind("             ", 0) == 0; ++j) {
      block += " " + lines[j].substr(13);
    }
    return block;
  }
  return "";
}

ChildResult RunStalling(const std::string& program, const std::string& filter,
                        int limit_s) {
  const ChildResult r =
      RunChild({program, "--gtest_filter=" + filter,
                "--gtest_watchdog_timeout=" + std::to_string(limit_s) + "s"});
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_GE(r.seconds, limit_s - 0.1);
  EXPECT_LT(r.seconds, limit_s + kSlack);
  return r;
}

bool HavePython() {
  const std::string python = PYTHON3;
  return !python.empty() && python.find("NOTFOUND") == std::string::npos;
}

void ExpectGtestOutput(const std::string& file,
                       const std::vector<std::string>& specs) {
  std::vector<std::string> argv = {PYTHON3, CHECK_GTEST_OUTPUT, file};
  argv.insert(argv.end(), specs.begin(), specs.end());
  const ChildResult c = RunChild(argv);
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_THAT(c.out, ::testing::HasSubstr("OK\n")) << c.out << c.err;
}

}  // namespace gtest_watchdog_test
