// File: gtest_watchdog/stall/stall_state.h
//
// What the stall path prepared at start-up (StallReporter::Prepare and
// AttachWatchdogThread, in prepare.cc) and reads when a report is due: the
// settings, the descriptors, the helper's file actions and environment, and
// storage for every thread. One struct with one definition, in
// stall_state.cc. Also the stall path's only source of memory: anonymous
// mappings, never malloc.
#pragma once

#include <limits.h>
#include <spawn.h>
#include <sys/types.h>

#include <cstddef>

#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/stall/stall_reporter.h"

namespace gtest_watchdog_internal {

// Preallocated per-thread storage; more is mapped only for bigger processes.
// Signal-safe.
constexpr int kPreallocatedThreads = 1024;
// Room for the test's child processes: stopped, then killed. Signal-safe.
constexpr int kChildPidCapacity = 4096;

// Everything the stall path needs, set up front by Prepare() while
// allocating and opening files is still safe: a stall caused by exhausted
// descriptors or address space must not leave us without a report. Written
// at start-up, then only read (the spare descriptors are closed). Plain data
// with constant initialisers: no code runs for it at load time or at exit,
// and a report that comes without Prepare() (it failed, or never ran) finds
// these defaults. Signal-safe.
struct StallState {
  StallPathTimings timings;
  bool color = false;               // the report may use ANSI colours
  char json_report[PATH_MAX] = {};  // the JSON report's path, or ""
  int stderr_fd = 2;
  char exe[PATH_MAX] = {};  // for messages; we exec /proc/self/exe
  pid_t pid = 0;
  pid_t watchdog_tid = 0;

  // The helper's descriptors and start.
  int snapshot_fd = -1;  // memfd, CLOEXEC; dup'ed to kSnapshotFd in the helper
  // Closed first on the stall path: free slots even if the process ran out
  // of descriptors (listing child processes holds a directory and a file
  // open).
  int spare_fds[2] = {-1, -1};
  int message_fd = -1;        // memfd: the helper's failure message for the XML
  int go_pipe[2] = {-1, -1};  // to the helper: "ptrace permitted", pids
  int done_pipe[2] = {-1, -1};  // from the helper: "report complete"
  posix_spawn_file_actions_t spawn_actions = {};
  bool have_spawn_actions = false;
  // The helper's environment: environ as Prepare() found it, copied into
  // memory nobody else writes. A test may setenv() LD_PRELOAD, LD_AUDIT,
  // LD_LIBRARY_PATH, GLIBC_TUNABLES or sanitizer options later; the helper,
  // which may ptrace us, must not load or obey what it set. Null: the copy
  // failed, and the helper is not started. Never freed.
  char** helper_env = nullptr;

  // kPreallocatedThreads of each (thread_census.h maps more when needed).
  pid_t* tids = nullptr;
  KernelThreadInfo* kernel = nullptr;
  ThreadStack* stacks = nullptr;
  SnapshotThreadIn* in = nullptr;
  FutexWindow* futex = nullptr;
  CpuSample* cpu = nullptr;
  pid_t* frozen_pids = nullptr;  // the test's children: stopped, then killed
  // kExtraStackSamples rounds of kMaxSampledThreads slots each
  // (stall/stack_samples.h); null: no extra samples.
  ThreadStack* sample_slots = nullptr;
};

// The one StallState. Signal-safe.
extern StallState g_stall;

// Anonymous memory: never malloc on this path. Never unmapped: a late signal
// handler may still write into a stack slot. Signal-safe.
void* MapZeroed(size_t bytes);

// `n` zeroed T's from MapZeroed; null without memory. Signal-safe.
template <typename T>
T* MapArray(int n) {
  return static_cast<T*>(MapZeroed(sizeof(T) * static_cast<size_t>(n)));
}

}  // namespace gtest_watchdog_internal
