#include "gtest_watchdog/dump/child_processes.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "gtest_watchdog/dump/proc_threads.h"

namespace gtest_watchdog_internal {
namespace {

// Re-listing rounds while freezing the tree; each round only finds
// processes started before the previous round's SIGSTOPs arrived.
constexpr int kMaxFreezeRounds = 8;

// A NUL-terminated path assembled without allocation.
class Path {
 public:
  Path& Str(const char* s) {
    while (*s != '\0' && n_ + 1 < sizeof(buf_)) buf_[n_++] = *s++;
    buf_[n_] = '\0';
    return *this;
  }
  Path& Dec(int64_t v) {
    char digits[24];
    int d = 0;
    uint64_t u = v < 0 ? 0 : static_cast<uint64_t>(v);
    do {
      digits[d++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    while (d > 0 && n_ + 1 < sizeof(buf_)) buf_[n_++] = digits[--d];
    buf_[n_] = '\0';
    return *this;
  }
  const char* c_str() const { return buf_; }

 private:
  char buf_[64] = {};
  size_t n_ = 0;
};

// Parses decimal numbers separated by anything else, fed in chunks: a
// number may straddle two reads of a long children file.
class PidTokenizer {
 public:
  template <typename Emit>
  void Feed(const char* p, size_t n, Emit&& emit) {
    for (size_t i = 0; i < n; ++i) {
      if (p[i] >= '0' && p[i] <= '9') {
        value_ = value_ * 10 + (p[i] - '0');
        in_number_ = true;
      } else {
        Finish(emit);
      }
    }
  }
  template <typename Emit>
  void Finish(Emit&& emit) {
    if (in_number_) emit(static_cast<pid_t>(value_));
    in_number_ = false;
    value_ = 0;
  }

 private:
  int64_t value_ = 0;
  bool in_number_ = false;
};

// Calls emit(child) for every child of process `pid`, read from each of its
// threads' children files. Returns how many children files could be opened
// (0: the kernel has none), or -1 if the process is gone.
template <typename Emit>
int ForEachChild(pid_t pid, Emit&& emit) {
  Path task_dir;
  task_dir.Str("/proc/").Dec(pid).Str("/task");
  const int dir = open(task_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  int files = 0;
  ForEachNumericEntry(dir, [&](pid_t tid) {
    Path path;
    path.Str(task_dir.c_str()).Str("/").Dec(tid).Str("/children");
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ++files;
    PidTokenizer tokens;
    char buf[512];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      tokens.Feed(buf, static_cast<size_t>(n), emit);
    }
    tokens.Finish(emit);
    close(fd);
  });
  close(dir);
  return files;
}

// How many numeric entries (tasks, processes) directory `path` has; -1 if
// it cannot be opened.
int CountNumericEntries(const char* path) {
  const int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  int count = 0;
  ForEachNumericEntry(dir, [&](pid_t) { ++count; });
  close(dir);
  return count;
}

bool Contains(const pid_t* pids, int begin, int end, pid_t pid) {
  for (int i = begin; i < end; ++i) {
    if (pids[i] == pid) return true;
  }
  return false;
}

// kill(0) and kill(-1) would hit our whole group or every process we may
// signal; init and ourselves are never a test's child either.
bool Signallable(pid_t pid) { return pid > 1 && pid != getpid(); }

}  // namespace

int ParseChildrenList(const char* text, size_t len, pid_t* out, int capacity) {
  int count = 0;
  auto emit = [&](pid_t pid) {
    if (pid > 0 && count < capacity) out[count++] = pid;
  };
  PidTokenizer tokens;
  tokens.Feed(text, len, emit);
  tokens.Finish(emit);
  return count;
}

bool ParseStatPpid(const char* stat, size_t len, pid_t* ppid, char* state) {
  // "pid (comm) S ppid ..."; comm may itself contain ") ", so use the last.
  const char* close_paren = nullptr;
  for (size_t i = 0; i < len; ++i) {
    if (stat[i] == ')') close_paren = stat + i;
  }
  const char* end = stat + len;
  if (close_paren == nullptr || end - close_paren < 5) return false;
  const char* p = close_paren + 1;
  if (*p++ != ' ') return false;
  const char s = *p++;
  if (*p++ != ' ') return false;
  bool neg = false;  // ppid is 0 for init and kernel threads, never < 0
  if (p < end && *p == '-') {
    neg = true;
    ++p;
  }
  if (p >= end || *p < '0' || *p > '9') return false;
  int64_t v = 0;
  for (; p < end && *p >= '0' && *p <= '9'; ++p) v = v * 10 + (*p - '0');
  *ppid = static_cast<pid_t>(neg ? -v : v);
  *state = s;
  return true;
}

int ListDescendants(pid_t root, pid_t exclude, pid_t* out, int capacity) {
  if (root <= 0) return -1;
  int count = 0;
  // `out` doubles as the breadth-first queue.
  auto add = [&](pid_t pid) {
    if (pid <= 0 || pid == root || pid == exclude || count >= capacity) return;
    if (Contains(out, 0, count, pid)) return;  // reparented while we looked
    out[count++] = pid;
  };
  // The children files cost one open per thread of ours, the stat scan one
  // per process on the host and tree level (usually two levels): with
  // thousands of threads (5,000: tens of milliseconds per listing, and a
  // report lists three times) the scan is the cheaper.
  Path task_dir;
  task_dir.Str("/proc/").Dec(root).Str("/task");
  const int threads = CountNumericEntries(task_dir.c_str());
  if (threads > 64) {
    const int processes = CountNumericEntries("/proc");
    if (processes > 0 && threads > 2 * processes) {
      return ListDescendantsByStatScan(root, exclude, out, capacity);
    }
  }
  const int files = ForEachChild(root, add);
  if (files < 0) return -1;
  if (files == 0)
    return ListDescendantsByStatScan(root, exclude, out, capacity);
  for (int i = 0; i < count; ++i) ForEachChild(out[i], add);
  return count;
}

int ListDescendantsByStatScan(pid_t root, pid_t exclude, pid_t* out,
                              int capacity) {
  if (root <= 0) return -1;
  int count = 0;
  // One scan of /proc per level: the parents of level k+1 are exactly the
  // pids found by scan k, which keeps the order breadth-first.
  int level_begin = 0;
  for (bool first = true;; first = false) {
    const int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -1;
    const int level_end = count;
    ForEachNumericEntry(dir, [&](pid_t pid) {
      if (pid == root || pid == exclude || count >= capacity) return;
      Path path;
      path.Str("/proc/").Dec(pid).Str("/stat");
      char buf[512];
      const ssize_t n = ReadProcFile(path.c_str(), buf, sizeof(buf));
      pid_t ppid;
      char state;
      if (n <= 0 ||
          !ParseStatPpid(buf, static_cast<size_t>(n), &ppid, &state)) {
        return;
      }
      const bool parent_found =
          first ? ppid == root : Contains(out, level_begin, level_end, ppid);
      if (parent_found && !Contains(out, 0, count, pid)) out[count++] = pid;
    });
    close(dir);
    if (count == level_end || count >= capacity) break;
    level_begin = level_end;
  }
  return count;
}

int FreezeDescendants(pid_t root, pid_t* out, int capacity, pid_t exclude) {
  int total = ListDescendants(root, exclude, out, capacity);
  if (total < 0) return -1;
  for (int i = 0; i < total; ++i) {
    if (Signallable(out[i])) kill(out[i], SIGSTOP);
  }
  // A process may have started another between the listing and its stop
  // (a shell loop): list again until nothing new appears.
  for (int round = 0; round < kMaxFreezeRounds && total < capacity; ++round) {
    const int listed =
        ListDescendants(root, exclude, out + total, capacity - total);
    int fresh = 0;
    for (int i = 0; i < listed; ++i) {
      const pid_t pid = out[total + i];
      if (!Contains(out, 0, total, pid)) out[total + fresh++] = pid;
    }
    if (fresh == 0) break;
    for (int i = total; i < total + fresh; ++i) {
      if (Signallable(out[i])) kill(out[i], SIGSTOP);
    }
    total += fresh;
  }
  return total;
}

// ---------------------------------------------------------------------------
// Report-helper side.
// ---------------------------------------------------------------------------

namespace {

// Up to `limit` bytes of a /proc file; empty if unreadable.
std::string ReadFileString(const char* path, size_t limit) {
  std::string out;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  while (out.size() < limit) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace

std::string CommandFromCmdline(const std::string& cmdline) {
  std::string out = cmdline;
  while (!out.empty() && out.back() == '\0') out.pop_back();
  for (char& c : out) {
    if (c == '\0' || c == '\n') c = ' ';  // one line per process
  }
  if (out.size() > kMaxCommandChars) {
    out.resize(kMaxCommandChars - 3);
    out += "...";
  }
  return out;
}

std::string CommFromStat(const char* stat, size_t len) {
  const char* open_paren = static_cast<const char*>(memchr(stat, '(', len));
  const char* close_paren = nullptr;
  for (size_t i = len; i > 0; --i) {
    if (stat[i - 1] == ')') {
      close_paren = stat + i - 1;
      break;
    }
  }
  if (open_paren == nullptr || close_paren == nullptr ||
      close_paren < open_paren) {
    return std::string();
  }
  return std::string(open_paren + 1, close_paren);
}

std::vector<ChildProcess> ListChildProcesses(pid_t root, pid_t exclude) {
  std::vector<pid_t> pids(256);
  int n = 0;
  for (;;) {
    n = ListDescendants(root, exclude, pids.data(),
                        static_cast<int>(pids.size()));
    if (n < 0) return {};
    // A full buffer may have cut the tree: retry with more room.
    if (static_cast<size_t>(n) < pids.size() || pids.size() >= (1u << 16)) {
      break;
    }
    pids.resize(pids.size() * 4);
  }

  std::vector<ChildProcess> found;
  found.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const pid_t pid = pids[static_cast<size_t>(i)];
    Path path;
    path.Str("/proc/").Dec(pid).Str("/stat");
    char stat[1024];
    const ssize_t len = ReadProcFile(path.c_str(), stat, sizeof(stat));
    ChildProcess child;
    if (len <= 0 || !ParseStatPpid(stat, static_cast<size_t>(len), &child.ppid,
                                   &child.state)) {
      continue;  // exited while we looked
    }
    child.pid = pid;
    Path cmdline;
    cmdline.Str("/proc/").Dec(pid).Str("/cmdline");
    // One byte over the limit tells CommandFromCmdline to mark the cut.
    child.command = CommandFromCmdline(
        ReadFileString(cmdline.c_str(), kMaxCommandChars + 1));
    // In the middle of execve a process has its new name but no arguments
    // yet (a child started just before the stall): give it a moment.
    for (int retry = 0; retry < 5 && child.command.empty() &&
                        child.state != 'Z' && child.state != 'X';
         ++retry) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      child.command = CommandFromCmdline(
          ReadFileString(cmdline.c_str(), kMaxCommandChars + 1));
    }
    // Zombies and kernel threads have no command line: show "[comm]", as ps.
    if (child.command.empty()) {
      child.command = "[" + CommFromStat(stat, static_cast<size_t>(len)) + "]";
    }
    found.push_back(std::move(child));
  }

  // Depth-first from the processes whose parent is not listed (root's
  // children, or orphans adopted meanwhile), keeping discovery order among
  // siblings.
  std::unordered_map<pid_t, std::vector<size_t>> kids;
  std::unordered_map<pid_t, size_t> index;
  for (size_t i = 0; i < found.size(); ++i) index[found[i].pid] = i;
  std::vector<size_t> tops;
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].ppid != found[i].pid && index.count(found[i].ppid) != 0) {
      kids[found[i].ppid].push_back(i);
    } else {
      tops.push_back(i);
    }
  }
  std::vector<ChildProcess> ordered;
  ordered.reserve(found.size());
  std::vector<bool> visited(found.size(), false);
  std::vector<size_t> stack(tops.rbegin(), tops.rend());
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    if (visited[i]) continue;  // a ppid cycle from pid reuse: list once
    visited[i] = true;
    ordered.push_back(found[i]);
    const auto it = kids.find(found[i].pid);
    if (it == kids.end()) continue;
    for (auto k = it->second.rbegin(); k != it->second.rend(); ++k) {
      stack.push_back(*k);
    }
  }
  // Anything only reachable through a cycle is still reported.
  for (size_t i = 0; i < found.size(); ++i) {
    if (!visited[i]) ordered.push_back(found[i]);
  }
  return ordered;
}

}  // namespace gtest_watchdog_internal
