// File: gtest_watchdog/symbolize/ptrace_access.h
//
// Whether the report helper may ptrace the stalled process, and the /proc
// facts PtraceUnwinder needs about the target's threads. Attach checks
// access here without touching the target; when the kernel refuses ptrace,
// the error says why as far as this process can see: another tracer
// (TracerPid), Yama's ptrace_scope, missing CAP_SYS_PTRACE (different uids,
// a non-dumpable target), a seccomp filter. Stopping a thread (PTRACE_SEIZE
// + PTRACE_INTERRUPT) and letting it go (PTRACE_DETACH) live here too; the
// unwinding of a stopped thread with libdwfl is in ptrace_unwinder.cc.
//
// Helper process only: allocates, reads /proc. For ptrace_unwinder.cc; other
// code uses PtraceUnwinder (ptrace_unwinder.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace gtest_watchdog_internal {

// Helper process only. Checks that process `pid` (a different process; may
// be our parent) exists and that we may ptrace it, touching nothing: opening
// /proc/PID/mem passes the kernel's ptrace access check, and a seccomp
// filter is seen by a harmless request. On success sets `*tgid` to its
// thread group id; otherwise returns false with `*error`, e.g. "no such
// process: 123" or "ptrace not permitted: ... (Yama ptrace_scope is 1: ...)".
bool CheckPtraceAccess(pid_t pid, pid_t* tgid, std::string* error);

// Helper process only. Seizes thread `tid` of process `pid` and asks it to
// stop (no signal is queued, so an abandoned stop leaves no trace); its stop
// is then seen by waitpid(tid, __WALL). Returns false with `*error` ("thread
// exited", "ptrace not permitted: ..." with the reasons, or "PTRACE_SEIZE:
// ...") if it cannot be seized.
bool SeizeAndInterrupt(pid_t pid, pid_t tid, std::string* error);

// Helper process only. Lets go of seized thread `tid`, which stopped with
// waitpid `status`, handing back the signal it was about to receive.
void PtraceDetach(pid_t tid, int status);

// Helper process only. Scheduler state of a thread of `pid` (R, S, D, T, t,
// Z, ...), or 0 if it is not (or no longer) a thread of that process.
char ProcTaskState(pid_t pid, pid_t tid);

// Helper process only. The user-space stack pointer and instruction pointer
// of a blocked thread (not stopped: e.g. in uninterruptible sleep), from
// /proc/PID/task/TID/syscall. False if it is running or they are unreadable.
bool BlockedSpPc(pid_t pid, pid_t tid, uint64_t* sp, uint64_t* pc);

}  // namespace gtest_watchdog_internal
