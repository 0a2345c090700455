#include "gtest_watchdog/diagnose/blocking_call.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/syscall_names.h"
#include "gtest_watchdog/dump/signal_info.h"

#ifndef P_PIDFD
#define P_PIDFD 3  // waitid on a pidfd: Linux 5.4, glibc 2.36
#endif

namespace gtest_watchdog_internal {
namespace {

// Most descriptors a poll or select is decoded for; the rest are counted.
constexpr uint64_t kMaxPollFds = 64;

// Calls whose first argument is the one descriptor they wait on. Some do
// not exist on every architecture (poll, select, epoll_wait: x86-64 only).
bool FirstArgIsFd(long nr) {
  switch (nr) {
    case SYS_read:
    case SYS_readv:
    case SYS_pread64:
    case SYS_preadv:
    case SYS_preadv2:
    case SYS_write:
    case SYS_writev:
    case SYS_pwrite64:
    case SYS_pwritev:
    case SYS_pwritev2:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_recvmmsg:
    case SYS_sendto:
    case SYS_sendmsg:
    case SYS_sendmmsg:
    case SYS_accept:
    case SYS_accept4:
    case SYS_connect:
    case SYS_flock:
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_ioctl:
    case SYS_fcntl:
    case SYS_splice:
    case SYS_tee:
    case SYS_sendfile:
    case SYS_copy_file_range:
      return true;
    default:
      return false;
  }
}

// Calls that say nothing about what the thread waits for outside the
// process: futexes (lock_analysis words them), memory-map calls (they wait
// for another thread of ours holding the process's memory map), a yield,
// and restart_syscall (an interrupted call resumed: which one is lost).
// kOther for every other call.
BlockKind SpecialKind(long nr) {
  switch (nr) {
    case SYS_futex:
#ifdef SYS_futex_waitv
    case SYS_futex_waitv:
#endif
      return BlockKind::kFutex;
    case SYS_mmap:
    case SYS_munmap:
    case SYS_mprotect:
    case SYS_mremap:
    case SYS_madvise:
    case SYS_brk:
    case SYS_mlock:
    case SYS_munlock:
      return BlockKind::kMemory;
    case SYS_sched_yield:
      return BlockKind::kRunning;
    case SYS_restart_syscall:
      return BlockKind::kUnknown;
    default:
      return BlockKind::kOther;
  }
}

bool IsEpollWait(long nr) {
#ifdef SYS_epoll_wait
  if (nr == SYS_epoll_wait) return true;
#endif
#ifdef SYS_epoll_pwait2
  if (nr == SYS_epoll_pwait2) return true;
#endif
  return nr == SYS_epoll_pwait;
}

const char* ClockName(int clock) {
  switch (clock) {
    case CLOCK_REALTIME:
      return "CLOCK_REALTIME";
    case CLOCK_MONOTONIC:
      return "CLOCK_MONOTONIC";
    case CLOCK_BOOTTIME:
      return "CLOCK_BOOTTIME";
    case CLOCK_TAI:
      return "CLOCK_TAI";
    case CLOCK_PROCESS_CPUTIME_ID:
      return "CLOCK_PROCESS_CPUTIME_ID";
    case CLOCK_THREAD_CPUTIME_ID:
      return "CLOCK_THREAD_CPUTIME_ID";
    default:
      return "a CPU-time clock";
  }
}

std::string EventsText(short events) {
  const bool in = (events & (POLLIN | POLLPRI)) != 0;
  const bool out = (events & POLLOUT) != 0;
  return in && out ? "read-write" : in ? "read" : out ? "write" : "";
}

// "0x..." for an argument we do not decode.
std::string ArgsText(const uint64_t (&args)[6]) {
  std::vector<std::string> parts;
  for (uint64_t a : args) parts.push_back(absl::StrFormat("0x%x", a));
  return absl::StrJoin(parts, ", ");
}

}  // namespace

CallDecoder::CallDecoder(const ProcView& view, pid_t pid,
                         std::vector<ChildProcess> children)
    : view_(view),
      pid_(pid),
      children_(std::move(children)),
      fds_(view, pid, children_) {}

FdFacts CallDecoder::DescribeFd(int fd) { return fds_.Describe(fd); }

int64_t CallDecoder::TimeoutMs(uint64_t addr, bool timeval) {
  if (addr == 0) return -1;
  int64_t t[2];
  if (!view_.ReadMemory(pid_, addr, t, sizeof(t)) || t[0] < 0 || t[1] < 0) {
    return -1;
  }
  if (t[0] > INT64_MAX / 1000 - 1) return INT64_MAX / 1000000;
  return t[0] * 1000 + (timeval ? t[1] / 1000 : t[1] / 1000000);
}

std::string CallDecoder::ReadString(uint64_t addr) {
  char buf[256];
  std::string out;
  // Page by page: a short string may end right before an unmapped page.
  for (int chunk = 0; chunk < 16; ++chunk) {
    const uint64_t page_left = 4096 - (addr % 4096);
    size_t want = std::min<uint64_t>(sizeof(buf), page_left);
    // A view that only has a few bytes there: try a small piece.
    if (!view_.ReadMemory(pid_, addr, buf, want) &&
        !view_.ReadMemory(pid_, addr, buf, want = std::min<size_t>(want, 16))) {
      break;
    }
    const void* nul = memchr(buf, '\0', want);
    if (nul != nullptr) {
      out.append(buf, static_cast<const char*>(nul) - buf);
      return out;
    }
    out.append(buf, want);
    addr += want;
  }
  return out;
}

void CallDecoder::DescribeFds(BlockingCall* call) {
  const long nr = call->nr;
  const uint64_t* a = call->args;
  call->kind = BlockKind::kFd;
  const bool poll_like =
#ifdef SYS_poll
      nr == SYS_poll ||
#endif
      nr == SYS_ppoll;
  const bool select_like =
#ifdef SYS_select
      nr == SYS_select ||
#endif
      nr == SYS_pselect6;
  std::string suffix;
  if (poll_like) {
    const uint64_t n = std::min(a[1], kMaxPollFds);
    std::vector<pollfd> fds(n);
    if (n > 0 && view_.ReadMemory(pid_, a[0], fds.data(), n * sizeof(pollfd))) {
      for (const pollfd& p : fds) {
        if (p.fd < 0) continue;
        FdFacts f = DescribeFd(p.fd);
        f.events = EventsText(p.events);
        call->fds.push_back(std::move(f));
      }
    }
    if (a[1] > kMaxPollFds) {
      suffix = absl::StrCat(" (and ", a[1] - kMaxPollFds, " more)");
    }
    if (nr == SYS_ppoll) call->timeout_ms = TimeoutMs(a[2], false);
#ifdef SYS_poll
    if (nr == SYS_poll && static_cast<int>(a[2]) >= 0) {
      call->timeout_ms = static_cast<int>(a[2]);
    }
#endif
  } else if (select_like) {
    const int n = static_cast<int>(std::min<uint64_t>(a[0], 1024));
    const char* events[3] = {"read", "write", "exception"};
    std::map<int, std::string> wanted;
    for (int set = 0; set < 3; ++set) {
      if (a[1 + set] == 0 || n <= 0) continue;
      unsigned char bits[128] = {};
      const size_t bytes = static_cast<size_t>((n + 7) / 8);
      if (!view_.ReadMemory(pid_, a[1 + set], bits, bytes)) continue;
      for (int fd = 0; fd < n; ++fd) {
        if ((bits[fd / 8] >> (fd % 8)) & 1) {
          std::string& e = wanted[fd];
          if (!e.empty()) e += ",";
          e += events[set];
        }
      }
    }
    for (const auto& [fd, ev] : wanted) {
      FdFacts f = DescribeFd(fd);
      f.events = ev;
      call->fds.push_back(std::move(f));
    }
    // select(2) takes a timeval, pselect6 a timespec; null: no timeout.
#ifdef SYS_select
    call->timeout_ms = TimeoutMs(a[4], nr == SYS_select);
#else
    call->timeout_ms = TimeoutMs(a[4], false);
#endif
  } else if (IsEpollWait(nr)) {
    FdFacts ep = DescribeFd(static_cast<int>(a[0]));
    // What the epoll instance watches: "tfd: N events: HEX ..." lines.
    std::vector<FdFacts> watched;
    const std::string info =
        view_.ReadFile(absl::StrCat("/proc/", pid_, "/fdinfo/", a[0]));
    for (absl::string_view line : absl::StrSplit(info, '\n')) {
      if (!absl::ConsumePrefix(&line, "tfd:")) continue;
      std::vector<absl::string_view> w =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      int fd = -1;
      if (w.empty() || !absl::SimpleAtoi(w[0], &fd)) continue;
      FdFacts f = DescribeFd(fd);
      if (w.size() >= 3 && w[1] == "events:") {
        unsigned ev = 0;
        if (absl::SimpleHexAtoi(w[2], &ev)) {
          f.events = EventsText(static_cast<short>(ev));
        }
      }
      watched.push_back(std::move(f));
      if (watched.size() >= kMaxPollFds) break;
    }
    call->fds.push_back(std::move(ep));
    for (FdFacts& f : watched) call->fds.push_back(std::move(f));
#ifdef SYS_epoll_pwait2
    if (nr == SYS_epoll_pwait2) {
      call->timeout_ms = TimeoutMs(a[3], false);  // a timespec, null: none
    } else
#endif
        if (static_cast<int>(a[3]) >= 0) {
      call->timeout_ms = static_cast<int>(a[3]);
    }
  } else if (nr == SYS_splice || nr == SYS_copy_file_range) {
    // (fd_in, off_in, fd_out, ...)
    call->fds.push_back(DescribeFd(static_cast<int>(a[0])));
    call->fds.push_back(DescribeFd(static_cast<int>(a[2])));
  } else if (nr == SYS_tee) {
    // (fd_in, fd_out, len, flags)
    call->fds.push_back(DescribeFd(static_cast<int>(a[0])));
    call->fds.push_back(DescribeFd(static_cast<int>(a[1])));
  } else if (nr == SYS_sendfile) {
    call->fds.push_back(DescribeFd(static_cast<int>(a[1])));
    call->fds.push_back(DescribeFd(static_cast<int>(a[0])));
  } else {
    call->fds.push_back(DescribeFd(static_cast<int>(a[0])));
  }

  std::string text = absl::StrCat(call->name, "()");
  if (call->timeout_ms >= 0) {
    absl::StrAppend(&text, " for ", DurationText(call->timeout_ms * 1000000));
  }
  if (IsEpollWait(nr) && !call->fds.empty()) {
    absl::StrAppend(&text, " on fd ", call->fds[0].fd, ", an epoll instance");
    if (call->fds.size() == 1) {
      absl::StrAppend(&text, " watching nothing");
    } else {
      std::vector<std::string> parts;
      for (size_t i = 1; i < call->fds.size(); ++i) {
        const FdFacts& f = call->fds[i];
        parts.push_back(absl::StrCat("fd ", f.fd, ": ", f.text));
      }
      absl::StrAppend(&text, " watching ", absl::StrJoin(parts, "; "));
    }
  } else if (call->fds.size() == 1 && !poll_like && !select_like) {
    absl::StrAppend(&text, " on fd ", call->fds[0].fd, ": ", call->fds[0].text);
  } else if (call->fds.empty()) {
    absl::StrAppend(&text, " on no descriptor we could read");
  } else {
    std::vector<std::string> parts;
    for (const FdFacts& f : call->fds) {
      parts.push_back(absl::StrCat(
          "fd ", f.fd,
          f.events.empty() ? "" : absl::StrCat(" (", f.events, ")"), ": ",
          f.text));
    }
    absl::StrAppend(&text, " on ", absl::StrJoin(parts, "; "), suffix);
  }
  call->text = text;
}

pid_t CallDecoder::ProcessGroup(pid_t pid) {
  // Field 5 of stat, after "pid (comm) state ppid".
  const std::string stat = view_.ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
  pid_t group = 0;
  return f.size() > 2 && absl::SimpleAtoi(f[2], &group) ? group : 0;
}

void CallDecoder::DescribeChildren(BlockingCall* call, long which, pid_t id) {
  call->kind = BlockKind::kChild;
  // which: P_ALL, P_PID or P_PGID (waitid's idtype; wait4's pid mapped).
  for (const ChildProcess& c : children_) {
    if (c.ppid != pid_) continue;  // only our own children can be awaited
    bool match = which == P_ALL || (which == P_PID && c.pid == id);
    if (which == P_PGID) {
      // waitid's 0: the caller's own process group.
      const pid_t group = id != 0 ? id : ProcessGroup(pid_);
      match = group != 0 && ProcessGroup(c.pid) == group;
    }
    if (match) call->children.push_back(c);
  }
  std::vector<std::string> parts;
  for (const ChildProcess& c : call->children) {
    parts.push_back(absl::StrCat("pid ", c.pid, " (", c.command, "; ",
                                 StateName(c.state), ")"));
  }
  std::string text = absl::StrCat(call->name, "() for ");
  if (which == P_PID) {
    call->wait_for = absl::StrCat("child pid ", id);
    if (call->children.empty()) {
      absl::StrAppend(&text, "child pid ", id,
                      " (not among the test's processes any more)");
    } else {
      absl::StrAppend(&text, "child ", parts[0]);
    }
  } else {
    call->wait_for = which == P_ALL
                         ? "any child"
                         : absl::StrCat("any child in process group ", id);
    absl::StrAppend(
        &text, call->wait_for, ": ",
        parts.empty() ? "there is none" : absl::StrJoin(parts, ", "));
  }
  call->text = text;
}

void CallDecoder::DescribeSleep(BlockingCall* call, int clock, bool absolute,
                                uint64_t timespec_addr, uint64_t rem_addr) {
  call->kind = BlockKind::kSleep;
  call->clock = ClockName(clock);
  call->sleep_absolute = absolute;
  struct {
    int64_t sec;
    int64_t nsec;
  } ts;
  std::string text = absl::StrCat(call->name, "()");
  if (view_.ReadMemory(pid_, timespec_addr, &ts, sizeof(ts)) && ts.sec >= 0 &&
      ts.nsec >= 0 && ts.nsec < 1000000000) {
    const int64_t at = ts.sec > INT64_MAX / 1000000000 - 1
                           ? INT64_MAX
                           : ts.sec * 1000000000 + ts.nsec;
    if (!absolute && rem_addr == timespec_addr) {
      // The request doubles as the remainder (std::this_thread::sleep_for):
      // interrupted by the report's signal, the kernel wrote what was left.
      call->sleep_ns = at;
      absl::StrAppend(&text, " with ", DurationText(at), " left");
    } else if (!absolute) {
      call->sleep_ns = at;
      absl::StrAppend(&text, " for ", DurationText(at));
    } else if (clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
               clock == CLOCK_BOOTTIME || clock == CLOCK_TAI) {
      // A system-wide clock: the helper reads the same one. (A CPU-time
      // clock would be the helper's own: no "from now" then.)
      const int64_t now = view_.NowNs(clock);
      if (now >= 0) {
        call->sleep_ns = at > now ? at - now : 0;
        absl::StrAppend(&text, " until ", DurationText(call->sleep_ns),
                        " from now");
      }
    }
  }
  if (call->nr != SYS_nanosleep) absl::StrAppend(&text, " (", call->clock, ")");
  call->text = text;
}

void CallDecoder::FutexTimeout(BlockingCall* call) {
  if (call->nr != SYS_futex || call->args[3] == 0) return;
  const uint64_t op = call->args[1] & 0x7f;  // without FUTEX_PRIVATE_FLAG
  if (op != 0 && op != 9) return;            // FUTEX_WAIT, FUTEX_WAIT_BITSET
  struct {
    int64_t sec;
    int64_t nsec;
  } ts;
  if (!view_.ReadMemory(pid_, call->args[3], &ts, sizeof(ts)) || ts.sec < 0 ||
      ts.nsec < 0 || ts.nsec >= 1000000000 ||
      ts.sec > INT64_MAX / 1000000000 - 1) {
    return;
  }
  const int64_t at = ts.sec * 1000000000 + ts.nsec;
  if (op == 0) {  // relative: what it asked for (at most that is left)
    call->timeout_left_ns = at;
    return;
  }
  // FUTEX_WAIT_BITSET: an absolute time on CLOCK_MONOTONIC, or on
  // CLOCK_REALTIME with FUTEX_CLOCK_REALTIME (256).
  const int64_t now = view_.NowNs((call->args[1] & 256) != 0 ? CLOCK_REALTIME
                                                             : CLOCK_MONOTONIC);
  if (now >= 0) call->timeout_left_ns = at > now ? at - now : 0;
}

BlockingCall UndecodedCall(const SnapshotThread& t) {
  BlockingCall call;
  call.nr = t.syscall_nr;
  std::copy(std::begin(t.syscall_args), std::end(t.syscall_args), call.args);
  if (t.syscall_nr == kSyscallRunning || t.syscall_nr == -1) {
    call.kind = BlockKind::kRunning;
    return call;
  }
  if (t.syscall_nr < 0) return call;
  call.name = SyscallName(t.syscall_nr);
  if (call.name.empty()) call.name = absl::StrCat("syscall_", t.syscall_nr);
  call.kind = SpecialKind(t.syscall_nr);
  return call;
}

BlockingCall CallDecoder::Decode(const SnapshotThread& t) {
  BlockingCall call = UndecodedCall(t);
  if (call.name.empty()) return call;  // running, or nothing known
  const long nr = t.syscall_nr;
  const uint64_t* a = call.args;

  if (call.kind != BlockKind::kOther) {
    if (call.kind == BlockKind::kFutex) FutexTimeout(&call);
    if (call.kind == BlockKind::kMemory) {
      call.text = absl::StrCat(call.name, "(", ArgsText(t.syscall_args), ")");
    }
    return call;
  }
  if (FirstArgIsFd(nr) || nr == SYS_ppoll || nr == SYS_pselect6 ||
      IsEpollWait(nr)
#ifdef SYS_poll
      || nr == SYS_poll
#endif
#ifdef SYS_select
      || nr == SYS_select
#endif
  ) {
    DescribeFds(&call);
    return call;
  }
  if (nr == SYS_wait4) {
    const pid_t p = static_cast<pid_t>(a[0]);
    if (p > 0) {
      DescribeChildren(&call, P_PID, p);
    } else if (p == -1) {
      DescribeChildren(&call, P_ALL, 0);
    } else {
      // 0: our own process group; below -1: that group.
      DescribeChildren(&call, P_PGID, p == 0 ? ProcessGroup(pid_) : -p);
    }
    return call;
  }
  if (nr == SYS_waitid) {
    const long which = static_cast<long>(a[0]);
    pid_t id = static_cast<pid_t>(a[1]);
    if (which == P_PIDFD) {
      // The pidfd's fdinfo names the process: "Pid:\t42".
      const std::string info =
          view_.ReadFile(absl::StrCat("/proc/", pid_, "/fdinfo/", a[1]));
      id = 0;
      for (absl::string_view line : absl::StrSplit(info, '\n')) {
        if (absl::ConsumePrefix(&line, "Pid:")) {
          (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &id);
        }
      }
      DescribeChildren(&call, P_PID, id);
    } else {
      DescribeChildren(&call, which, id);
    }
    return call;
  }
  if (nr == SYS_nanosleep) {
    DescribeSleep(&call, CLOCK_MONOTONIC, false, a[0], a[1]);
    return call;
  }
  if (nr == SYS_clock_nanosleep) {
    DescribeSleep(&call, static_cast<int>(a[0]), (a[1] & TIMER_ABSTIME) != 0,
                  a[2], a[3]);
    return call;
  }
  if (nr == SYS_rt_sigtimedwait || nr == SYS_rt_sigsuspend
#ifdef SYS_pause
      || nr == SYS_pause
#endif
  ) {
    call.kind = BlockKind::kSignal;
    std::string text = absl::StrCat(call.name, "()");
    uint64_t set = 0;
    if (nr == SYS_rt_sigtimedwait &&
        view_.ReadMemory(pid_, a[0], &set, sizeof(set))) {
      std::vector<std::string> names;
      for (int s = 1; s <= 64; ++s) {
        if ((set >> (s - 1)) & 1) {
          call.signals.push_back(s);
          names.push_back(SignalName(s));
        }
      }
      absl::StrAppend(&text, ", waiting for ", absl::StrJoin(names, ", "));
    } else {
      absl::StrAppend(&text, ", waiting for a signal");
    }
    call.text = text;
    return call;
  }
  if (nr == SYS_openat) {
    // A FIFO's open blocks until the other end is opened too.
    const std::string path = ReadString(a[1]);
    call.kind = BlockKind::kOther;
    call.text = absl::StrCat(call.name, "(\"", path, "\")");
    if (!path.empty()) {
      const std::string full =
          path[0] == '/' ? path
          : static_cast<int>(a[0]) == AT_FDCWD
              ? absl::StrCat("/proc/", pid_, "/cwd/", path)
              : absl::StrCat("/proc/", pid_, "/fd/", static_cast<int>(a[0]),
                             "/", path);
      if (view_.FileType(full) == S_IFIFO) {
        call.kind = BlockKind::kFd;
        FdFacts f;
        f.kind = "fifo";
        f.path = path;
        f.text = absl::StrCat("FIFO ", path);
        call.fds.push_back(f);
        call.text = absl::StrCat(call.name, "() of FIFO ", path,
                                 ": waits until the other end is opened");
      }
    }
    return call;
  }
  call.kind = BlockKind::kOther;
  call.text = absl::StrCat(call.name, "(", ArgsText(t.syscall_args), ")");
  return call;
}

}  // namespace gtest_watchdog_internal
