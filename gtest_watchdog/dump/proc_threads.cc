#include "gtest_watchdog/dump/proc_threads.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gtest_watchdog/base/raw_writer.h"

namespace gtest_watchdog_internal {
namespace {

// "/proc/self/task/<tid>/<leaf>" into out (NUL-terminated).
void TaskPath(pid_t tid, const char* leaf, char (&out)[64]) {
  RawWriter w(-1);
  w.Str("/proc/self/task/").Dec(tid).Char('/').Str(leaf);
  const size_t n = w.size() < sizeof(out) - 1 ? w.size() : sizeof(out) - 1;
  memcpy(out, w.data(), n);
  out[n] = '\0';
}

// Value of a hex digit, or -1. Signal-safe.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses one number (decimal, "-1", or "0x" hex) at *p; advances past it.
bool NextNumber(const char*& p, const char* end, int64_t* out) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) ++p;
  if (p >= end) return false;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    ++p;
  }
  uint64_t v = 0;
  bool any = false;
  if (end - p > 2 && p[0] == '0' && p[1] == 'x') {
    p += 2;
    any = ParseHex(p, end, &v);
  } else {
    while (p < end && *p >= '0' && *p <= '9') {
      v = v * 10 + static_cast<uint64_t>(*p++ - '0');
      any = true;
    }
  }
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return any;
}

void CopyTrimmed(const char* src, ssize_t n, char* dst, size_t cap) {
  size_t len = n > 0 ? static_cast<size_t>(n) : 0;
  while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == ' ')) --len;
  if (len > cap - 1) len = cap - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

// The last ')' of /proc/.../stat: the end of "(comm)", which may itself
// hold ") ". Null if none. Signal-safe.
const char* LastCloseParen(const char* stat, size_t len) {
  for (size_t i = len; i-- > 0;) {
    if (stat[i] == ')') return stat + i;
  }
  return nullptr;
}

}  // namespace

bool ParseHex(const char*& p, const char* end, uint64_t* out) {
  uint64_t v = 0;
  bool any = false;
  for (int d; p < end && (d = HexValue(*p)) >= 0; ++p) {
    v = v * 16 + static_cast<uint64_t>(d);
    any = true;
  }
  *out = v;
  return any;
}

ssize_t ReadProcFile(const char* path, char* buf, size_t cap) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t total = 0;
  while (total + 1 < cap) {
    const ssize_t n = read(fd, buf + total, cap - 1 - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  close(fd);
  buf[total] = '\0';
  return static_cast<ssize_t>(total);
}

pid_t NumericName(const char* s) {
  if (*s < '0' || *s > '9') return 0;
  int64_t v = 0;
  for (; *s >= '0' && *s <= '9'; ++s) v = v * 10 + (*s - '0');
  return *s == '\0' ? static_cast<pid_t>(v) : 0;
}

int ListThreadIds(pid_t* tids, int capacity) {
  const int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int count = 0;
  ForEachNumericEntry(fd, [&](pid_t tid) {
    if (count < capacity) tids[count] = tid;
    ++count;
  });
  close(fd);
  return count;
}

char ParseStatState(const char* stat, size_t len) {
  // "pid (comm) S ...".
  const char* close_paren = LastCloseParen(stat, len);
  if (close_paren == nullptr || close_paren + 2 >= stat + len) return '?';
  return close_paren[2];
}

void ParseSyscallLine(const char* text, size_t len, KernelThreadInfo* info) {
  if (len >= 7 && memcmp(text, "running", 7) == 0) {
    info->syscall_nr = kSyscallRunning;
    return;
  }
  const char* p = text;
  const char* end = text + len;
  int64_t v;
  if (!NextNumber(p, end, &v)) return;
  info->syscall_nr = static_cast<long>(v);
  if (v >= 0) {
    for (uint64_t& arg : info->syscall_args) {
      if (!NextNumber(p, end, &v)) return;
      arg = static_cast<uint64_t>(v);
    }
  }
  if (NextNumber(p, end, &v)) info->sp = static_cast<uint64_t>(v);
  if (NextNumber(p, end, &v)) info->pc = static_cast<uint64_t>(v);
}

uint64_t ParseSigBlk(const char* status, size_t len) {
  static constexpr char kKey[] = "SigBlk:";
  for (size_t i = 0; i + sizeof(kKey) - 1 < len; ++i) {
    if ((i == 0 || status[i - 1] == '\n') &&
        memcmp(status + i, kKey, sizeof(kKey) - 1) == 0) {
      const char* p = status + i + sizeof(kKey) - 1;
      while (p < status + len && (*p == ' ' || *p == '\t')) ++p;
      uint64_t v = 0;
      ParseHex(p, status + len, &v);
      return v;
    }
  }
  return 0;
}

bool ParseSchedstat(const char* text, size_t len, int64_t* cpu_ns,
                    int64_t* queued_ns, int64_t* runs) {
  const char* p = text;
  const char* end = text + len;
  return NextNumber(p, end, cpu_ns) && *cpu_ns >= 0 &&
         NextNumber(p, end, queued_ns) && *queued_ns >= 0 &&
         NextNumber(p, end, runs) && *runs >= 0;
}

bool ParseStatCpuTicks(const char* stat, size_t len, int64_t* ticks) {
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const char* close_paren = LastCloseParen(stat, len);
  if (close_paren == nullptr) return false;
  const char* p = close_paren + 1;
  const char* end = stat + len;
  int field = 2;
  int64_t utime = -1, stime = -1;
  while (p < end && field < 15) {
    while (p < end && *p == ' ') ++p;
    if (p >= end) break;
    ++field;
    if (field == 14 || field == 15) {
      int64_t v;
      if (!NextNumber(p, end, &v)) return false;
      (field == 14 ? utime : stime) = v;
    } else {
      while (p < end && *p != ' ') ++p;
    }
  }
  if (utime < 0 || stime < 0) return false;
  *ticks = utime + stime;
  return true;
}

void SampleThreadCpu(pid_t tid, CpuSample* out) {
  *out = CpuSample();
  char path[64];
  char buf[512];
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t at = now.tv_sec * 1000000000LL + now.tv_nsec;
  TaskPath(tid, "schedstat", path);
  ssize_t n = ReadProcFile(path, buf, sizeof(buf));
  int64_t cpu = 0, queued = 0, runs = 0;
  if (n > 0 &&
      ParseSchedstat(buf, static_cast<size_t>(n), &cpu, &queued, &runs)) {
    *out = CpuSample{at, cpu, queued, runs};
    return;
  }
  // Kernels without CONFIG_SCHED_INFO: CPU time in USER_HZ ticks (100 on
  // every Linux ABI), nothing else.
  TaskPath(tid, "stat", path);
  n = ReadProcFile(path, buf, sizeof(buf));
  int64_t ticks = 0;
  if (n > 0 && ParseStatCpuTicks(buf, static_cast<size_t>(n), &ticks)) {
    *out = CpuSample{at, ticks * 10000000, -1, -1};
  }
}

void SetCpuUse(const CpuSample& first, const CpuSample& second,
               KernelThreadInfo* info) {
  if (first.at_ns < 0 || second.at_ns <= first.at_ns || first.cpu_ns < 0 ||
      second.cpu_ns < first.cpu_ns) {
    return;
  }
  info->interval_ns = second.at_ns - first.at_ns;
  info->cpu_ns = second.cpu_ns - first.cpu_ns;
  info->queued_ns = first.queued_ns >= 0 && second.queued_ns >= first.queued_ns
                        ? second.queued_ns - first.queued_ns
                        : -1;
  info->wakeups = first.runs >= 0 && second.runs >= first.runs
                      ? second.runs - first.runs
                      : -1;
}

void ReadKernelThreadInfo(pid_t tid, KernelThreadInfo* info) {
  info->tid = tid;
  char path[64];
  char buf[4096];

  TaskPath(tid, "stat", path);
  ssize_t n = ReadProcFile(path, buf, sizeof(buf));
  if (n <= 0) {
    info->gone = true;
    return;
  }
  info->state = ParseStatState(buf, static_cast<size_t>(n));
  // The name is in stat too ("pid (name) S ..."): one file fewer per thread.
  const char* open_paren = static_cast<const char*>(memchr(buf, '(', n));
  const char* close_paren = LastCloseParen(buf, static_cast<size_t>(n));
  if (open_paren != nullptr && close_paren != nullptr &&
      close_paren > open_paren) {
    CopyTrimmed(open_paren + 1, close_paren - open_paren - 1, info->name,
                sizeof(info->name));
  }

  TaskPath(tid, "wchan", path);
  n = ReadProcFile(path, buf, sizeof(buf));
  if (n > 0 && !(n == 1 && buf[0] == '0')) {
    CopyTrimmed(buf, n, info->wchan, sizeof(info->wchan));
  }

  TaskPath(tid, "status", path);
  n = ReadProcFile(path, buf, sizeof(buf));
  if (n > 0) info->sig_blocked = ParseSigBlk(buf, static_cast<size_t>(n));

  TaskPath(tid, "syscall", path);
  n = ReadProcFile(path, buf, sizeof(buf));
  if (n > 0) ParseSyscallLine(buf, static_cast<size_t>(n), info);
}

}  // namespace gtest_watchdog_internal
