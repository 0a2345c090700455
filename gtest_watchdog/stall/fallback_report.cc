#include "gtest_watchdog/stall/fallback_report.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "gtest_watchdog/base/signal_name.h"
#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/stall/stall_state.h"

namespace gtest_watchdog_internal {
namespace {

// Module and the address addr2line wants for `pc` (relative to the
// module's load bias, right for PIE, non-PIE and lld layouts alike).
// _dl_find_object is lock-free and async-signal-safe (glibc >= 2.35).
bool FindModule(uint64_t pc, const char** path, uint64_t* address) {
  dl_find_object found;
  if (_dl_find_object(reinterpret_cast<void*>(pc), &found) != 0 ||
      found.dlfo_link_map == nullptr) {
    return false;
  }
  const char* name = found.dlfo_link_map->l_name;
  *path = (name != nullptr && name[0] != '\0') ? name : g_stall.exe;
  *address = pc - found.dlfo_link_map->l_addr;
  return true;
}

// The fallback's failure message (headline and verdict lines), kept for
// GoogleTest's output. Static: one report per process, by one thread.
char g_fallback_message[4096];
size_t g_fallback_message_size = 0;

// The system calls a stuck test sits in most, which the stall path names
// itself (the helper names every call, through libseccomp); `fd`: the first
// argument is the descriptor waited on.
struct CommonSyscall {
  long nr;
  const char* name;
  bool fd;
};
constexpr CommonSyscall kCommonSyscalls[] = {
    {SYS_read, "read", true},
    {SYS_write, "write", true},
    {SYS_readv, "readv", true},
    {SYS_writev, "writev", true},
    {SYS_pread64, "pread64", true},
    {SYS_pwrite64, "pwrite64", true},
    {SYS_recvfrom, "recvfrom", true},
    {SYS_recvmsg, "recvmsg", true},
    {SYS_sendto, "sendto", true},
    {SYS_sendmsg, "sendmsg", true},
    {SYS_accept, "accept", true},
    {SYS_accept4, "accept4", true},
    {SYS_connect, "connect", true},
    {SYS_flock, "flock", true},
    {SYS_fsync, "fsync", true},
    {SYS_fdatasync, "fdatasync", true},
    {SYS_ioctl, "ioctl", true},
    {SYS_fcntl, "fcntl", true},
    {SYS_epoll_pwait, "epoll_pwait", true},
    {SYS_ppoll, "ppoll", false},
    {SYS_pselect6, "pselect6", false},
    {SYS_futex, "futex", false},
    {SYS_nanosleep, "nanosleep", false},
    {SYS_clock_nanosleep, "clock_nanosleep", false},
    {SYS_wait4, "wait4", false},
    {SYS_waitid, "waitid", false},
    {SYS_rt_sigsuspend, "rt_sigsuspend", false},
    {SYS_rt_sigtimedwait, "rt_sigtimedwait", false},
    {SYS_openat, "openat", false},
    {SYS_msgrcv, "msgrcv", false},
    {SYS_semtimedop, "semtimedop", false},
#ifdef SYS_epoll_wait
    {SYS_epoll_wait, "epoll_wait", true},
#endif
#ifdef SYS_poll
    {SYS_poll, "poll", false},
#endif
#ifdef SYS_select
    {SYS_select, "select", false},
#endif
#ifdef SYS_pause
    {SYS_pause, "pause", false},
#endif
#ifdef SYS_open
    {SYS_open, "open", false},
#endif
#ifdef SYS_semop
    {SYS_semop, "semop", false},
#endif
};

const CommonSyscall* FindCommonSyscall(long nr) {
  for (const CommonSyscall& c : kCommonSyscalls) {
    if (c.nr == nr) return &c;
  }
  return nullptr;
}

// " on fd 5 (pipe:[8812])": what /proc/self/fd says the descriptor is now
// ("pipe:[inode]", "socket:[inode]", a path), escaped. Signal-safe:
// readlink into a stack buffer.
void WriteFd(RawWriter& w, uint64_t arg) {
  const int fd = static_cast<int>(arg);
  w.Str(" on fd ").Dec(fd);
  char path[40];
  RawWriter p(-1);
  p.Str("/proc/self/fd/").Dec(fd);
  memcpy(path, p.data(), p.size());
  path[p.size()] = '\0';
  char target[256];
  const ssize_t n = readlink(path, target, sizeof(target));
  if (n > 0) {
    w.Str(" (").Escaped(target, static_cast<size_t>(n));
    w.Str(n == static_cast<ssize_t>(sizeof(target)) ? "...)" : ")");
  } else {
    w.Str(" (no longer open)");
  }
}

// " in read() on fd 5 (pipe:[8812])", " in futex() on 0x7ffd...", " in
// system call 232", for a thread in system call `nr` (>= 0).
void WriteCall(RawWriter& w, long nr, const uint64_t* args) {
  const CommonSyscall* call = FindCommonSyscall(nr);
  if (call == nullptr) {
    w.Str(" in system call ").Dec(nr);
    return;
  }
  w.Str(" in ").Str(call->name).Str("()");
  if (call->fd) {
    WriteFd(w, args[0]);
  } else if (nr == SYS_futex) {
    w.Str(" on ").Hex(args[0]);
  } else if (nr == SYS_wait4) {
    const auto pid = static_cast<int32_t>(args[0]);
    if (pid == -1) {
      w.Str(" for any child");
    } else if (pid > 0) {
      w.Str(" for child pid ").Dec(pid);
    } else {
      w.Str(" for a child in process group ").Dec(pid == 0 ? getpgrp() : -pid);
    }
  }
}

const char* StateWord(char state) {
  switch (state) {
    case 'R':
      return "running";
    case 'S':
      return "sleeping";
    case 'D':
      return "in uninterruptible sleep";
    case 'T':
      return "stopped";
    case 't':
      return "stopped by a tracer";
    case 'Z':
      return "a zombie";
    case 'X':
      return "dead";
    case 'I':
      return "idle";
    default:
      return "in an unknown state";
  }
}

// Percent of `of`, rounded; 0 when either is not positive.
int64_t Percent(int64_t part, int64_t of) {
  return of > 0 && part > 0 ? (part * 100 + of / 2) / of : 0;
}

// `thread 123 "name"`, the name escaped.
void WriteThread(RawWriter& w, const KernelThreadInfo& k) {
  w.Str("thread ").Dec(k.tid).Str(" \"").Escaped(k.name).Char('"');
}

// The crash is the verdict: which thread, which signal, and the address it
// hit, with the module and the offset addr2line wants.
void WriteCrashVerdict(RawWriter& w, const SnapshotHeader& h,
                       const SnapshotThreadIn* threads, int count) {
  const SignalFacts& sig = h.signal;
  const SnapshotThreadIn* hit = nullptr;
  for (int i = 0; i < count && hit == nullptr; ++i) {
    if (threads[i].kernel->tid == sig.tid) hit = &threads[i];
  }
  w.Str("[ VERDICT  ] crash: ");
  if (hit == nullptr) {
    w.Str("thread ").Dec(sig.tid);
  } else {
    WriteThread(w, *hit->kernel);
  }
  w.Str(" got ").Str(SignalName(sig.signo));
  // The handler's unwind starts at the interrupted instruction.
  const ThreadStack* s = hit != nullptr ? hit->stack : nullptr;
  const uint64_t pc = s != nullptr && s->depth > 0 ? s->pcs[0] : 0;
  if (pc != 0) {
    w.Str(" at ").Hex(pc);
    const char* path;
    uint64_t address;
    if (FindModule(pc, &path, &address) && path[0] != '\0') {
      w.Str(" (").Escaped(path).Char(' ').Hex(address).Char(')');
    }
  }
  w.Str(" (not symbolized: the report helper failed)\n");
}

// The helper's rule for a busy thread (diagnose/verdict.h, kBusyShare):
// runnable, on a CPU or waiting for one, for at least half the window.
bool Busy(const KernelThreadInfo& k) {
  const int64_t queued = k.queued_ns > 0 ? k.queued_ns : 0;
  return k.cpu_ns > 0 && k.interval_ns > 0 &&
         2 * (k.cpu_ns + queued) >= k.interval_ns;
}

// The thread the signal interrupted sits in our handler: what it was doing
// is the call the handler recovered (dump/signal_info.h), and its CPU use
// says nothing.
void WriteInterrupted(RawWriter& w, const KernelThreadInfo& t, int signo) {
  if (t.syscall_nr >= 0) {
    w.Str("was");
    WriteCall(w, t.syscall_nr, t.syscall_args);
    w.Str(" when ").Str(SignalName(signo)).Str(" came\n");
  } else if (t.syscall_nr == kSyscallRunning) {
    w.Str("was running (not in a system call) when ")
        .Str(SignalName(signo))
        .Str(" came\n");
  } else {
    w.Str("was interrupted by ")
        .Str(SignalName(signo))
        .Str(
            " in a call that does not resume (a sleep, poll or timed wait), "
            "or in one not known\n");
  }
}

}  // namespace

void WriteFallbackVerdict(RawWriter& w, const SnapshotHeader& h,
                          const SnapshotThreadIn* threads, int count) {
  if (strcmp(h.kind, "crash") == 0) {
    WriteCrashVerdict(w, h, threads, count);
    return;
  }
  // The thread whose wait matters, as for the helper: the test's, else the
  // main thread.
  const KernelThreadInfo* t = nullptr;
  for (int i = 0; i < count && t == nullptr; ++i) {
    if (h.test_tid != 0 && threads[i].kernel->tid == h.test_tid) {
      t = threads[i].kernel;
    }
  }
  for (int i = 0; i < count && t == nullptr; ++i) {
    if (threads[i].kernel->tid == h.pid) t = threads[i].kernel;
  }
  // No lock owners, cycles, symbols or decoded descriptors: no verdict of
  // the helper's kinds can be told apart (a mutex from a join, a deadlock
  // from a lost notify). Only the facts.
  w.Str(
      "[ VERDICT  ] not decided: the report helper failed (no symbols, lock "
      "owners or decoded calls)");
  if (t == nullptr) {
    w.Str("; the thread running the test was not found\n");
    return;
  }
  w.Str("; ");
  WriteThread(w, *t);
  w.Str(t->tid == h.test_tid ? ", which runs the test, "
                             : ", the main thread, ");
  if (h.signal.signo != 0 && t->tid == h.signal.tid) {
    WriteInterrupted(w, *t, h.signal.signo);
    return;
  }
  const bool measured = t->cpu_ns >= 0 && t->interval_ns > 0;
  const int64_t window_ms = (t->interval_ns + 500000) / 1000000;
  if (measured && Busy(*t)) {
    w.Str("is running, not waiting (")
        .Dec(Percent(t->cpu_ns, t->interval_ns))
        .Str("% of a CPU over ")
        .Dec(window_ms)
        .Str(" ms");
    const int64_t queued = Percent(t->queued_ns, t->interval_ns);
    if (queued >= 10) w.Str(", and ").Dec(queued).Str("% waiting for one");
    w.Char(')');
    if (t->syscall_nr >= 0) WriteCall(w, t->syscall_nr, t->syscall_args);
    w.Char('\n');
    return;
  }
  w.Str("is ").Str(StateWord(t->state));
  if (t->syscall_nr >= 0) {
    WriteCall(w, t->syscall_nr, t->syscall_args);
  } else if (t->syscall_nr == kSyscallRunning) {
    w.Str(" (not in a system call)");
  }
  if (measured) {
    w.Str("; over ")
        .Dec(window_ms)
        .Str(" ms it used ")
        .Dec(Percent(t->cpu_ns, t->interval_ns))
        .Str("% of a CPU");
    if (t->wakeups >= 0) {
      w.Str(" and woke up ")
          .Dec(t->wakeups)
          .Str(t->wakeups == 1 ? " time" : " times");
    }
  }
  w.Char('\n');
}

void WriteHeadline(RawWriter& w, const SnapshotHeader& h) {
  const SignalFacts& sig = h.signal;
  if (sig.signo != 0) {
    w.Str(strcmp(h.kind, "crash") == 0 ? "[ CRASH    ] " : "[ SIGNAL   ] ");
    if (h.test_name[0] != '\0') {
      w.Escaped(h.test_name).Str(": ");
    } else if (h.suite_name[0] != '\0') {
      w.Escaped(h.suite_name).Str(": ");
    }
    w.Str(h.phase_description).Str(": ").Str(SignalName(sig.signo));
    const char* how = SignalCodeText(sig.signo, sig.code);
    if (*how != '\0') w.Str(" (").Str(how).Str(")");
    if (IsFault(sig.signo, sig.code)) w.Str(" at address ").Hex(sig.fault_addr);
    if (sig.sender_pid != 0) w.Str(" from pid ").Dec(sig.sender_pid);
    w.Str(" in thread ").Dec(sig.tid).Char('\n');
    return;
  }
  w.Str("[ TIMEOUT  ] ");
  if (strcmp(h.kind, "total-timeout") == 0) {
    w.Str("the whole test run still running after ")
        .Seconds(h.elapsed_ns)
        .Str(" s (limit ")
        .Seconds(h.limit_ns)
        .Str(" s, from ")
        .Str(h.limit_origin)
        .Str(")\n[ TIMEOUT  ] running now: ");
  }
  if (h.test_name[0] != '\0') {
    w.Escaped(h.test_name).Str(": ");
  } else if (h.suite_name[0] != '\0') {
    w.Escaped(h.suite_name).Str(": ");
  }
  w.Str(h.phase_description)
      .Str(" still running after ")
      .Seconds(h.elapsed_ns)
      .Str(" s (limit ")
      .Seconds(h.limit_ns)
      .Str(" s, from ")
      .Str(h.limit_origin)
      .Str(")\n");
}

void WriteFallback(const SnapshotHeader& h, const SnapshotThreadIn* threads,
                   int count) {
  // Headline and verdict: the start of the report, and the failure
  // message GoogleTest's output gets.
  {
    RawWriter m(-1);
    WriteHeadline(m, h);
    WriteFallbackVerdict(m, h, threads, count);
    g_fallback_message_size = m.size() < sizeof(g_fallback_message)
                                  ? m.size()
                                  : sizeof(g_fallback_message);
    memcpy(g_fallback_message, m.data(), g_fallback_message_size);
  }
  RawWriter w(g_stall.stderr_fd);
  w.Str(g_fallback_message, g_fallback_message_size);
  w.Str(
      "[ WATCHDOG ] could not symbolize (report helper failed); raw "
      "stacks follow. Resolve with: addr2line -Cfi -e MODULE ADDRESS\n");
  for (int i = 0; i < count; ++i) {
    const KernelThreadInfo& k = *threads[i].kernel;
    w.Str("\nThread ")
        .Dec(k.tid)
        .Str(" \"")
        .Escaped(k.name)
        .Str("\" state ")
        .Char(k.state);
    if (k.tid == h.test_tid) w.Str(" (runs the test)");
    w.Str(" stack: ").Str(StackStatusId(threads[i].status));
    if (k.wchan[0] != '\0') w.Str(", wchan ").Escaped(k.wchan);
    w.Char('\n');
    const ThreadStack* s = threads[i].stack;
    const bool have = s != nullptr && threads[i].status == StackStatus::kOk;
    const int depth = have ? s->depth : (k.pc != 0 ? 1 : 0);
    for (int f = 0; f < depth; ++f) {
      const uint64_t pc = have ? s->pcs[f] : k.pc;
      w.Str("    #").Dec(f).Str("  ").Hex(pc);
      const char* path;
      uint64_t address;
      if (FindModule(pc, &path, &address)) {
        w.Str("  ").Escaped(path).Str(" ").Hex(address);
      }
      w.Char('\n');
    }
  }
  w.Flush();
}

const char* FallbackFailureMessage(size_t* size) {
  *size = g_fallback_message_size;
  return g_fallback_message_size > 0 ? g_fallback_message : nullptr;
}

}  // namespace gtest_watchdog_internal
