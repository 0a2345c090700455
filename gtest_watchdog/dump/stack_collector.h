// File: gtest_watchdog/dump/stack_collector.h
//
// Collects the raw call stack (program counters) of other threads of this
// process by asking each, with a thread-directed real-time signal, to unwind
// itself in a signal handler into a slot prepared for it. The unwinder is
// libgcc's _Unwind_Backtrace, which walks .eh_frame through the signal frame
// and libc, and on Debian 12 finds objects with _dl_find_object (lock-free,
// async-signal-safe).
//
// Threads that block the signal, sleep uninterruptibly or do not answer in
// time are left to the caller, who still has what the kernel says about them
// (dump/proc_threads.h).
//
// Usage (stall path):
//   StackCollector::Install();                       // once, at start-up
//   ...
//   ThreadStack* slots = ...;                        // caller-owned, never
//   freed StackCollector::Collect(slots, n, deadline_ns);
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

namespace gtest_watchdog_internal {

constexpr int kMaxFrames = 96;

enum class StackState : int {
  kIdle = 0,
  kRequested,  // signal sent, handler not started
  kWriting,    // handler is unwinding into the slot
  kDone,       // frames are valid
  kAbandoned,  // collector gave up; a late handler must not touch the slot
  kNotSent,    // thread blocks the signal or could not be signalled
};

struct ThreadStack {
  std::atomic<int> state{0};
  pid_t tid = 0;
  int depth = 0;
  bool truncated = false;
  // pcs[0] is the interrupted instruction (exact); pcs[1..] are return
  // addresses minus one, i.e. inside the call instruction, ready to look up.
  uint64_t pcs[kMaxFrames];
  // The thread's pthread_self(): where glibc keeps its struct pthread, which
  // holds the words pthread_join waits on. 0 if the thread did not answer.
  uint64_t thread_pointer = 0;
};

class StackCollector {
  // Start-up only.
 public:
  // Picks a real-time signal nobody handles, installs our handler for it and
  // warms up the unwinder so nothing is loaded lazily later. Not
  // signal-safe; call once at start-up. Returns the signal, or 0 on failure.
  static int Install();
  // Signal-safe.
  static int signal_number();

  // Sends the signal to every slot whose state is kRequested and waits until
  // each answered or `deadline_ns` (monotonic) passed; unanswered slots end
  // kAbandoned. Signal-safe: syscalls and atomics only, no allocation, no
  // lock. `slots` must stay valid for the life of the process (a handler may
  // run late). Returns the number of slots that answered.
  static int Collect(ThreadStack* slots, int count, int64_t deadline_ns);

  // Inside a signal handler: unwinds the calling thread into `slot` from
  // the instruction the signal interrupted (`interrupted_pc`, from the
  // ucontext) outwards, leaving out the handler's own frames. False, with
  // slot->depth 0, if that frame was not found on the way. Signal-safe.
  static bool UnwindInterrupted(ThreadStack* slot, uint64_t interrupted_pc);
};

}  // namespace gtest_watchdog_internal
