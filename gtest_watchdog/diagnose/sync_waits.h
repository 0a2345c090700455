// File: gtest_watchdog/diagnose/sync_waits.h
//
// Futex waits of synchronization primitives that are not glibc's: Abseil's
// (absl::Mutex, CondVar, Notification, BlockingCounter, Barrier) and
// C++20's (std::latch, std::barrier, std::counting_semaphore,
// std::atomic::wait). Their futex word says little: an Abseil thread
// sleeps on a word of its own per-thread identity, libstdc++'s on the
// object's word or on a shared waiter pool. The stack names the primitive
// (ClassifySyncWait); for Abseil, the helper then follows the waiting
// thread's identity in the live process's memory to the mutex, condition
// variable or event object, and finds a mutex's owner in Abseil's
// deadlock-detection bookkeeping (debug builds such as Debian's keep each
// thread's held locks) (ResolveAbslWaits).
//
// Helper process only: these functions allocate and are not signal-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "gtest_watchdog/diagnose/report_model.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

// Fills *w (kind, primitive, timed, condition) when the frames (innermost
// first) of a thread in a waiting futex operation show an Abseil or C++20
// primitive's wait; returns false and leaves *w alone otherwise. The
// outermost frame of the primitive's own functions names it (a
// Notification waits through Mutex::LockWhen). w->lock_addr stays the
// futex address: for std::latch, counting_semaphore and atomic<int> that
// is the object. Helper process only: may allocate; takes no lock.
bool ClassifySyncWait(const std::vector<SourceFrame>& frames, LockWait* w);

// Copies `size` bytes at `addr` of the stalled process; false when
// unreadable. Helper process only.
using ReadMemoryFn = std::function<bool(uint64_t addr, void* out, size_t size)>;

// For every thread whose wait.primitive is Abseil's: finds the object it
// waits on (lock_addr: the absl::Mutex, the CondVar, or the Notification /
// BlockingCounter / Barrier, whose Mutex is their first member), whether a
// Lock / LockWhen / Await waits for a Condition, and for a plain lock the
// owner: the thread of ours (is_our_thread) whose held-locks list holds
// the mutex. Layout as Abseil 20220623 on x86-64 (Debian bookworm); every
// pointer is checked against the next (the wait's parameters point back
// to the thread), so another layout leaves a wait as the stack named it.
// Helper process only: allocates; reads the process's memory.
void ResolveAbslWaits(std::vector<ThreadModel>* threads,
                      const ReadMemoryFn& read,
                      const std::function<bool(pid_t)>& is_our_thread);

}  // namespace gtest_watchdog_internal
