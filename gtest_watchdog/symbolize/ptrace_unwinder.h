// File: gtest_watchdog/symbolize/ptrace_unwinder.h
//
// Unwinds threads of another live process from the outside, with ptrace and
// elfutils' libdwfl. The report helper uses it for the stalled process's
// threads that cannot answer the stack-collecting signal: threads that block
// every signal, threads of a ThreadSanitizer build blocked in an intercepted
// call, and threads in uninterruptible sleep.
//
// Helper process only: like Symbolizer, it allocates and calls into libdw.
// Only the report helper calls it, never the stalled process (a thread
// cannot ptrace its own thread group anyway).
//
// How a thread is stopped (ptrace_unwinder.cc says why; ptrace_access.h has
// the permission checks):
//  - PTRACE_SEIZE + PTRACE_INTERRUPT, never PTRACE_ATTACH: no SIGSTOP is
//    queued, so a thread that does not stop in time can be abandoned without
//    leaving a stop signal behind for the whole process. Blocked system calls
//    (futex, read, poll, pause, nanosleep, ...) restart transparently after
//    the stop; the few that report EINTR after a SIGSTOP/SIGCONT (epoll_wait,
//    sigtimedwait, semop, sockets with SO_RCVTIMEO; see signal(7)) do the
//    same here.
//  - A thread in uninterruptible sleep (state D, e.g. a vfork parent, a hung
//    NFS/FUSE access) cannot be ptrace-stopped until the sleep ends: it is not
//    seized. Instead it is unwound without stopping, from the user-space stack
//    and instruction pointers that /proc/PID/task/TID/syscall gives for a
//    blocked thread (x86-64 and AArch64; elsewhere: an error). Registers other
//    than SP and PC are unknown there, so such a stack may end early.
//  - Each thread is detached as soon as its stack is read; a signal that
//    arrived while it was stopped is handed back on detach.
//
// Usage (in the report helper, whose parent is the stalled process):
//
//   std::string error;
//   std::unique_ptr<PtraceUnwinder> unwinder =
//       PtraceUnwinder::Attach(getppid(), &error);
//   if (unwinder == nullptr) { ... report `error` ... }
//   for (const UnwoundThread& t :
//        unwinder->Unwind(tids, /*max_frames=*/64, deadline_ns)) {
//     // Symbolize t.pcs with Symbolizer::ForProcess(getppid(), ...).
//   }
//
// Permissions: the caller must be allowed to ptrace the target. With Yama's
// ptrace_scope = 1 (Ubuntu's default) a child may NOT trace its parent unless
// the parent first calls prctl(PR_SET_PTRACER, child_pid); Attach() fails
// with an error that says so.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gtest_watchdog_internal {

// The stack of one thread, innermost frame first. Helper process only.
struct UnwoundThread {
  pid_t tid = 0;
  // pcs[0] is the exact instruction where the thread stopped; the others are
  // return addresses minus one (pointing into the call instruction), except
  // for frames interrupted by a signal, which are exact too. This is the
  // convention of the signal path (StackCollector) and what
  // Symbolizer::Symbolize() expects.
  std::vector<uint64_t> pcs;
  // True if the stack had more than `max_frames` frames, or the deadline
  // ended the unwinding midway.
  bool truncated = false;
  // Empty on success. Otherwise why the stack is missing or incomplete, e.g.
  // "timed out", "thread exited", "ptrace not permitted: ...". `pcs` keeps
  // whatever frames were found before the problem.
  std::string error;
};

// Unwinds threads of one other process. Not thread-safe. Helper process
// only.
class PtraceUnwinder {
 public:
  // Prepares to unwind threads of process `pid` (a different process; may be
  // our parent): checks that it exists and that we may ptrace it, and loads
  // its modules' unwind tables. Stops nothing. Returns nullptr and sets
  // `*error` (if non-null) on failure, e.g. "no such process: 123" or
  // "ptrace not permitted: ... (Yama ptrace_scope is 1: ...)".
  static std::unique_ptr<PtraceUnwinder> Attach(pid_t pid, std::string* error);

  PtraceUnwinder(const PtraceUnwinder&) = delete;
  PtraceUnwinder& operator=(const PtraceUnwinder&) = delete;

  // Unwinds each of `tids` (threads of the attached process), at most
  // `max_frames` frames each (at least 1), giving up at `deadline_ns`
  // (CLOCK_MONOTONIC): threads not done by then get error "timed out".
  // Returns one entry per tid, in the same order. Each thread is detached
  // as soon as it is unwound. Only a thread that had not yet stopped when the
  // deadline passed stays traced (a running tracee cannot be detached): the
  // destructor waits up to 200 ms for it to stop and lets it go; one asleep
  // in D is let go by the kernel when this process exits.
  std::vector<UnwoundThread> Unwind(const std::vector<pid_t>& tids,
                                    int max_frames, int64_t deadline_ns);

  // Detaches from any thread still traced (see Unwind); the target continues
  // exactly as before.
  ~PtraceUnwinder();

 private:
  // Holds the libdwfl sessions; keeps elfutils headers out of this one.
  class Impl;

  explicit PtraceUnwinder(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace gtest_watchdog_internal
