// File: gtest_watchdog/diagnose/lock_analysis.h
//
// What a thread blocked in a futex waits for, and which threads wait for
// each other in a cycle (a deadlock). The kind of wait comes from the
// functions on the thread's stack and the futex operation; the owner of a
// mutex or rwlock comes from the lock's own memory, copied by the stalled
// process around the futex word (FutexWindow), laid out as glibc 2.36 on
// x86-64 lays out pthread_mutex_t and pthread_rwlock_t.
//
// Helper process only: these functions allocate and are not signal-safe.
// They are pure: no system call, no global state.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>

#include <functional>
#include <vector>

#include "gtest_watchdog/diagnose/report_model.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

// futex(2)'s system call number.
constexpr long kSyscallFutex = SYS_futex;

// Classifies the wait of a thread in futex(2) (t.syscall_nr == kSyscallFutex;
// any other thread gets kind kNone, as does one in a futex operation that does
// not wait, such as FUTEX_WAKE). frames are innermost first; the innermost
// frame naming a known lock, condition or join function decides, and PI
// lock operations are mutexes whatever the stack says. Anything else in a
// waiting futex operation is kOtherFutex.
//
// lock_addr is the mutex's or rwlock's address, the futex address for
// everything else (for a condition variable that lies inside the object).
// owner is read from t.futex_bytes, never outside them, and is kept only if
// is_our_thread(owner); otherwise 0. Mutexes: __owner, or the futex word
// for PI mutexes. Rwlocks: __cur_writer (0 while readers hold it). Joins:
// the joined thread: the futex word holds its TID (glibc up to 2.42), or
// else the word lies inside that thread's struct pthread (2.43 waits on a
// join-state word there), found with thread_at (the thread whose
// pthread_self() is at most kThreadControlBlockSpan below an address, 0 if
// none). Condition variables and other futexes: 0.
// Helper process only: may allocate; takes no lock.
LockWait ClassifyWait(
    const SnapshotThread& t, const std::vector<SourceFrame>& frames,
    const std::function<bool(pid_t)>& is_our_thread,
    const std::function<pid_t(uint64_t)>& thread_at = nullptr);

// How far past pthread_self() glibc's struct pthread may reach (about
// 2.3 KiB on x86-64).
inline constexpr uint64_t kThreadControlBlockSpan = 4096;

// The elementary cycles of the wait-for graph: threads[i] -> threads[j]
// when threads[i] waits for a mutex or rwlock (read or write) whose owner is
// threads[j].raw->tid. Each cycle is listed once, starting at its smallest
// index, cycles ordered by that index; a thread waiting for a lock it holds
// itself is a cycle of one. Condition variables and joins make no edges.
// Helper process only: allocates; takes no lock.
std::vector<DeadlockCycle> FindDeadlockCycles(
    const std::vector<ThreadModel>& threads);

}  // namespace gtest_watchdog_internal
