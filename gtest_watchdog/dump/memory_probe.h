// File: gtest_watchdog/dump/memory_probe.h
//
// Reads this process's own memory without risking a fault: a stalled thread
// may sit in a futex whose address is garbage, or whose page was unmapped
// since, and the stall path must not crash on it. process_vm_readv on our own
// pid makes the kernel do the copy, so a bad address is an error (EFAULT),
// not a SIGSEGV.
//
// Every function here is async-signal-safe: one system call into
// caller-provided storage; no allocation, no lock, no stdio.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gtest_watchdog/dump/snapshot.h"

namespace gtest_watchdog_internal {

// Copies [addr, addr + len) of this process into out. Returns true only if
// all len bytes were read; false (out partly written) if any byte is
// unmapped or unreadable, or if process_vm_readv is unavailable (e.g. a
// seccomp filter). len 0 is true.
// Allocates: no. Locks: no. Signal-safe: yes.
bool ReadOwnMemory(uint64_t addr, void* out, size_t len);

// Fills *out with the memory around the futex word at uaddr:
// [uaddr - kFutexWindowBefore, uaddr - kFutexWindowBefore + kFutexWindowSize)
// when all of it is readable. If a page boundary inside that window leads to
// unreadable memory, keeps the largest readable part that still holds
// [uaddr, uaddr + 24) (enough for a mutex's owner and kind); size 0 (base 0)
// if even that cannot be read, or if uaddr is 0.
// Allocates: no. Locks: no. Signal-safe: yes.
void ProbeFutexWindow(uint64_t uaddr, FutexWindow* out);

}  // namespace gtest_watchdog_internal
