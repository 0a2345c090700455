// File: gtest_watchdog/dump/snapshot.h
//
// The snapshot is what the stalled process knows at the moment of a stall —
// which phase and test, the limit, every thread's kernel state and raw
// program counters — written as plain text lines to an in-memory file and
// handed to the report helper process, which symbolizes and formats it.
// Keeping symbolization (libdw, malloc, demangling) out of the stalled
// process means no lock a stuck thread holds can stop the report.
//
// Writing (WriteSnapshot) is async-signal-safe; parsing (ParseSnapshot) runs
// in the helper process and allocates.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/dump/stack_collector.h"

namespace gtest_watchdog_internal {

constexpr int kSnapshotVersion = 5;
// Stack samples taken after the first of the threads that ran during the
// CPU window (the first sample is every thread's stack), and how many such
// threads at most: evidence of whether their stacks move.
constexpr int kExtraStackSamples = 2;
constexpr int kMaxSampledThreads = 16;

// Bytes of memory around the futex a thread waits on, read by the stalled
// process itself (process_vm_readv: a bad address fails, never faults), so
// the helper can find a lock's owner. Covers [uaddr - 16, uaddr + 48).
constexpr int kFutexWindowBefore = 16;
constexpr int kFutexWindowSize = 64;
struct FutexWindow {
  uint64_t base = 0;  // address of bytes[0]
  int size = 0;       // bytes read; 0 = unreadable / not in a futex
  unsigned char bytes[kFutexWindowSize] = {};
};

// How a thread's stack was obtained, or why not.
enum class StackStatus : int {
  kOk = 0,           // unwound by the thread itself, in our signal handler
  kSelf,             // the watchdog thread writing this report
  kSignalsBlocked,   // the thread blocks our signal
  kUninterruptible,  // state D (or stopped/zombie): cannot run a handler
  kNoAnswer,         // signal sent, no answer in time
  kExited,           // gone while we looked
  kSmallStack,       // too little stack left to run our signal handler
};
// Signal-safe.
const char* StackStatusId(StackStatus s);  // signal-safe

// What the stalled process fills in (fixed-size, no allocation).
struct SnapshotHeader {
  const char* kind =
      "timeout";  // "timeout", "total-timeout", "crash", "signal"
  const char* phase_id = "none";
  const char* phase_description = "";  // for the fallback headline
  const char* test_name = "";          // "Suite.Name" incl. parameter suffixes
  const char* suite_name = "";
  const char* limit_origin = "";  // "--gtest_watchdog_timeout", ...
  int64_t limit_ns = 0;
  int64_t elapsed_ns = 0;
  pid_t pid = 0;
  pid_t test_tid = 0;
  pid_t watchdog_tid = 0;
  bool color = false;            // the report may use ANSI colours
  const char* json_report = "";  // absolute path for the JSON report, or ""
  SignalFacts signal;            // kind "crash" / "signal"; signo 0 otherwise
  // Extra stack samples taken (0 to kExtraStackSamples), and when, in ns
  // after the first.
  int extra_samples = 0;
  int64_t sample_offset_ns[kExtraStackSamples] = {};
};

struct SnapshotThreadIn {
  const KernelThreadInfo* kernel;
  const ThreadStack* stack;  // may be null
  StackStatus status;
  const FutexWindow* futex = nullptr;  // may be null
  // The thread's extra samples (null: not sampled, or no answer).
  const ThreadStack* extra[kExtraStackSamples] = {};
};

// Writes the snapshot as text to fd. Signal-safe: RawWriter only.
void WriteSnapshot(int fd, const SnapshotHeader& header,
                   const SnapshotThreadIn* threads, int count);

// ---- helper-process side (allocates) ----
struct SnapshotThread {
  pid_t tid = 0;
  char state = '?';
  StackStatus status = StackStatus::kNoAnswer;
  bool truncated = false;
  long syscall_nr = kSyscallUnknown;
  uint64_t syscall_args[6] = {};
  uint64_t kernel_pc = 0;
  uint64_t sig_blocked = 0;
  // CPU use between the stalled process's two samples; -1: not measured.
  int64_t cpu_ns = -1;
  int64_t queued_ns = -1;
  int64_t wakeups = -1;
  int64_t interval_ns = -1;
  std::string name;
  std::string wchan;
  std::vector<uint64_t> pcs;    // pcs[0] exact, others already minus one
  uint64_t thread_pointer = 0;  // pthread_self() (glibc: its struct pthread)
  uint64_t futex_base = 0;      // address of futex_bytes[0]
  std::vector<unsigned char> futex_bytes;  // empty: not read
  // Extra samples of this thread's stack, as pcs; samples[k] was taken
  // Snapshot::sample_offsets_ns[k] after pcs; empty: not taken.
  std::vector<std::vector<uint64_t>> samples;
};

struct Snapshot {
  int version = 0;
  std::string kind;
  std::string phase_id;
  std::string test_name;
  std::string suite_name;
  std::string limit_origin;
  int64_t limit_ns = 0;
  int64_t elapsed_ns = 0;
  pid_t pid = 0;
  pid_t test_tid = 0;
  pid_t watchdog_tid = 0;
  bool color = false;
  std::string json_report;  // absolute path, or empty
  SignalFacts signal;       // kind "crash" / "signal"; signo 0 otherwise
  std::vector<SnapshotThread> threads;
  // When each extra stack sample round was taken, ns after the first.
  std::vector<int64_t> sample_offsets_ns;
};

// Returns false with *error on malformed input. Helper process only.
bool ParseSnapshot(const std::string& text, Snapshot* out, std::string* error);

}  // namespace gtest_watchdog_internal
