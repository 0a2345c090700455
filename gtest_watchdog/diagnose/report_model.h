// File: gtest_watchdog/diagnose/report_model.h
//
// What the report helper knows after analysing a snapshot: every thread with
// its symbolized frames and what it waits for, the lock owners' wait-for
// cycles, threads grouped by identical stacks, and the test's child
// processes. The text report (report_formatter) and the JSON report
// (json_report) are both renderings of this one model, so they never
// disagree.
//
// Helper process only: allocates, not signal-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gtest_watchdog/diagnose/blocking_call.h"
#include "gtest_watchdog/dump/child_processes.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

// Which part of a test was running, told from the test thread's stack
// (GoogleTest emits no event between constructor, SetUp, body, TearDown).
enum class TestPart {
  kUnknown,
  kConstructor,
  kSetUp,
  kBody,
  kTearDown,
  kDestructor
};

// What a thread blocked in a futex waits for, decided from the futex's
// memory and the functions on the thread's stack.
enum class WaitKind {
  kNone,         // not blocked in a futex (or not known)
  kMutex,        // pthread_mutex_t / std::mutex (also recursive, timed, PI)
  kRwlockWrite,  // pthread_rwlock_t, waiting to write
  kRwlockRead,   // pthread_rwlock_t, waiting to read
  kCondition,    // condition variable: waiting for a signal, owns nothing
  kJoin,         // pthread_join / std::thread::join: waits for a thread
  kOtherFutex,   // some other futex (a semaphore, a custom lock, ...)
  // An event or a count (absl::Notification, BlockingCounter, Barrier,
  // std::latch, std::barrier, std::counting_semaphore, atomic::wait): waits
  // for another thread to notify, count down or release; owns nothing.
  kEvent,
};

struct LockWait {
  // A constructor, not aggregate initialization, so that {kind, addr,
  // owner, name} still says everything a glibc wait has. Helper process
  // only.
  LockWait() = default;
  LockWait(WaitKind k, uint64_t addr, pid_t owner_tid, std::string name,
           std::string primitive_name = "", bool with_timeout = false,
           bool for_condition = false)
      : kind(k),
        lock_addr(addr),
        owner(owner_tid),
        lock_name(std::move(name)),
        primitive(std::move(primitive_name)),
        timed(with_timeout),
        condition(for_condition) {}

  WaitKind kind = WaitKind::kNone;
  uint64_t lock_addr = 0;  // the mutex / rwlock / condvar object's address
  pid_t owner = 0;         // the thread holding it (a thread of ours), or 0
  std::string lock_name;   // the variable's name when it is a known symbol
  // The primitive named from the stack ("absl::Mutex", "std::latch", ...);
  // empty for glibc's own (pthread mutexes, rwlocks, conditions, joins).
  std::string primitive;
  bool timed = false;      // the wait has a timeout (...WithTimeout, ...)
  bool condition = false;  // absl LockWhen / Await: waits for a Condition
};

// How a thread's frames were obtained.
enum class StackSource {
  kNone,      // no frames (exited, the watchdog itself)
  kSignal,    // the thread unwound itself in our signal handler
  kPtrace,    // the report helper unwound it from outside (ptrace)
  kKernelPc,  // only the user-space PC the kernel reports
};

// Whether a thread's stack moved between the report's samples
// (docs/verdict.md, "Evidence over time").
enum class Motion {
  kUnknown,   // not measured, or it ran but has a single sample
  kIdle,      // it did not run at all in the CPU window: it cannot have moved
  kSameSpot,  // it ran, and every sample is in the same spot
  kMoved,     // it ran, and the samples are in different spots
};
struct ThreadModel {
  const SnapshotThread* raw = nullptr;  // points into the snapshot
  std::vector<SourceFrame> frames;      // innermost first, inlined expanded
  StackSource source = StackSource::kNone;
  // Why the stack is missing or partial, or how it was obtained instead;
  // empty when the thread answered normally.
  std::string stack_note;
  LockWait wait;
  BlockingCall call;  // the system call it sits in, decoded
  int group = -1;     // index into ReportModel::groups
  // The extra samples of its stack (after `frames`), symbolized alike.
  std::vector<std::vector<SourceFrame>> samples;
  Motion motion = Motion::kUnknown;
};

// Threads whose stacks and waits are identical; printed once.
struct ThreadGroup {
  std::vector<int> members;  // indices into ReportModel::threads, tid order
};

// A cycle in the wait-for graph: threads[i] waits for a lock held by
// threads[(i + 1) % size].
struct DeadlockCycle {
  std::vector<int> threads;  // indices into ReportModel::threads
};

// The report's first words: the most likely cause, decided from the whole
// model (diagnose/verdict.h gives the rules).
enum class VerdictKind {
  kNone,          // not decided (a model built without the verdict step)
  kCrash,         // a fatal signal: the crash is the cause
  kDeadlock,      // a cycle of lock waits
  kBusy,          // the thread the test waits for runs on a CPU
  kBlocked,       // ... waits on something outside the process
  kSlow,          // work goes on, or a timed wait has time left: not stuck
  kPolling,       // ... keeps waking up in one spot, and nothing else moves
  kNotify,        // ... waits for a notify nothing is left to send
  kNoClearCause,  // the evidence is weak: we do not guess
};

// One spot of the "where the time went" summary: a first frame in the
// user's code and how many samples of working threads were there.
struct HotSpot {
  SourceFrame where;
  int count = 0;
};
struct TimeSpent {
  int samples = 0;             // stack samples counted
  int threads = 0;             // of this many working threads
  std::vector<HotSpot> spots;  // most seen first
};
struct Verdict {
  VerdictKind kind = VerdictKind::kNone;
  // Thread indices: the wait chain from the test thread to the culprit
  // (for a deadlock, to the cycle, then the cycle); empty when none.
  std::vector<int> chain;
  int culprit = -1;  // the thread the verdict is about
  // Other threads named as possible causes (kNoClearCause).
  std::vector<int> candidates;
  bool has_where = false;
  SourceFrame where;  // the culprit's first frame in the user's code
  std::string text;   // the whole verdict, without the "[ VERDICT ]" tag
  // Where the working threads were seen, when the verdict counted them
  // (kSlow); empty otherwise.
  TimeSpent time_spent;
};

struct ReportModel {
  const Snapshot* snapshot = nullptr;
  std::vector<ThreadModel> threads;  // snapshot order
  int test_thread = -1;              // index of the thread running the test
  TestPart part = TestPart::kUnknown;
  std::vector<ThreadGroup> groups;
  std::vector<DeadlockCycle> cycles;
  std::vector<ChildProcess> children;
  // Set when some threads needed ptrace and it failed (permission, ...).
  std::string ptrace_note;
  Verdict verdict;

  // The index in `threads` of the thread with `tid`, or -1. Helper process
  // only.
  int IndexOf(pid_t tid) const {
    for (size_t i = 0; i < threads.size(); ++i) {
      if (threads[i].raw->tid == tid) return static_cast<int>(i);
    }
    return -1;
  }
  // That thread, or null. Helper process only.
  const ThreadModel* ByTid(pid_t tid) const {
    const int i = IndexOf(tid);
    return i >= 0 ? &threads[i] : nullptr;
  }
};

}  // namespace gtest_watchdog_internal
