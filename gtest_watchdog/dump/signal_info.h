// File: gtest_watchdog/dump/signal_info.h
//
// Names and plain-words meanings of signals and their `si_code`s, for the
// crash and signal reports. Fixed tables, no allocation: every function here
// is async-signal-safe, so the stalled process's raw fallback can use them
// as well as the report helper.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "gtest_watchdog/base/signal_name.h"  // SignalName, for every user of these
#include "gtest_watchdog/dump/proc_threads.h"  // kSyscallRunning, kSyscallUnknown

namespace gtest_watchdog_internal {

// What is known of a crash or signal: taken by the handler from siginfo_t
// and the ucontext, carried in the snapshot to the report helper. Plain
// data (signal-safe to fill and copy). signo 0: no signal.
struct SignalFacts {
  int signo = 0;
  int code = 0;             // si_code
  uint64_t fault_addr = 0;  // for faults (IsFault), else 0
  pid_t sender_pid = 0;     // for signals a process sent (HasSender), else 0
  int64_t sender_uid = 0;
  pid_t tid = 0;                     // the thread it interrupted
  uint64_t sp = 0;                   // that thread's stack pointer then
  bool to_previous_handler = false;  // passed on to a handler, not default
  // The system call the signal interrupted (InterruptedSyscall), which
  // /proc cannot tell while the thread sits in our handler.
  long syscall_nr = kSyscallUnknown;
  uint64_t syscall_args[6] = {};
};

// What the kernel says about how the signal came: "address not mapped to
// object", "integer divide by zero", "sent by kill()", ... or "" when the
// code means nothing in particular. Signal-safe.
const char* SignalCodeText(int sig, int code);

// The highest real-time signal at or below `highest` that nobody handles
// (default action, no handler), never one of those glibc keeps for itself
// nor the two just above them; 0 if none. For the watchdog's own signals.
// Signal-safe: sigaction queries only.
int FreeRealTimeSignal(int highest);

// SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP raised by the CPU (code > 0): a
// fault at an instruction, with a meaningful fault address. Signal-safe.
bool IsFault(int sig, int code);

// Whether the signal was sent by a process (kill, sigqueue, tgkill, raise):
// then si_pid and si_uid name the sender. Signal-safe.
bool HasSender(int code);

// A SIGSEGV whose fault address lies within `window` bytes below (or just
// above) the stack pointer: the classic stack overflow. Signal-safe.
bool LooksLikeStackOverflow(int sig, uint64_t fault_addr, uint64_t sp);

// x86-64 machine state at the interrupted instruction, as the signal frame
// saved it: what InterruptedSyscall needs.
struct InterruptedState {
  uint64_t rip = 0;
  int64_t rax = 0;
  uint64_t args[6] = {};  // rdi, rsi, rdx, r10, r8, r9
  // The code bytes at rip - 2 .. rip + 1; readable false if not read.
  unsigned char code[4] = {};
  bool readable = false;
};

// The system call a signal interrupted, from the saved registers. With
// SA_RESTART, a call the kernel will restart (read, recv, accept, wait4, a
// futex without timeout, ...) has rip back on its `syscall` instruction and
// rax holding its number again: *nr and args are that call. A call that
// returns EINTR instead (sleeps, poll, epoll_wait, timed futexes) has rip
// just past the instruction and rax -EINTR: its number is lost, *nr is
// kSyscallUnknown. Anywhere else the thread was running user code:
// kSyscallRunning. Signal-safe: pure.
void InterruptedSyscall(const InterruptedState& s, long* nr, uint64_t args[6]);

}  // namespace gtest_watchdog_internal
