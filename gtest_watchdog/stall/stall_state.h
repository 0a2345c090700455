// File: gtest_watchdog/stall/stall_state.h
//
// What the stall path prepared at start-up (StallReporter::Prepare, in
// prepare.cc) and reads when a report is due: the settings, the descriptors,
// the helper's file actions and environment, and storage for every thread.
// Defined once, in stall_state.cc. Also the stall path's only source of
// memory: anonymous mappings, never malloc.
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

// Everything the stall path needs, set up front by Prepare() while
// allocating and opening files is still safe: a stall caused by exhausted
// descriptors or address space must not leave us without a report.
extern StallPathSettings g_settings;
extern int g_stderr_fd;
extern char g_exe[PATH_MAX];  // for messages; we exec /proc/self/exe
extern pid_t g_pid;
extern pid_t g_watchdog_tid;
extern int
    g_snapshot_fd;  // memfd, CLOEXEC; dup'ed to kSnapshotFd in the helper
// Closed first on the stall path: free slots even if the process ran out of
// descriptors (listing child processes holds a directory and a file open).
extern int g_spare_fds[2];
extern int g_message_fd;    // memfd: the helper's failure message for the XML
extern int g_go_pipe[2];    // to the helper: "ptrace permitted", pids
extern int g_done_pipe[2];  // from the helper: "report complete"
extern char g_json_report[PATH_MAX];
extern bool g_color;
extern posix_spawn_file_actions_t g_spawn_actions;
extern bool g_have_spawn_actions;
// The helper's environment: environ as Prepare() found it, copied into
// memory nobody else writes. A test may setenv() LD_PRELOAD, LD_AUDIT,
// LD_LIBRARY_PATH, GLIBC_TUNABLES or sanitizer options later; the helper,
// which may ptrace us, must not load or obey what it set. Null: the copy
// failed, and the helper is not started. Never freed.
extern char** g_helper_env;
// Preallocated per-thread storage; more is mapped only for bigger processes.
constexpr int kPreallocatedThreads = 1024;
extern pid_t* g_tids;
extern KernelThreadInfo* g_kernel;
extern ThreadStack* g_stacks;
extern SnapshotThreadIn* g_in;
extern FutexWindow* g_futex;
extern CpuSample* g_cpu;
extern pid_t* g_frozen_pids;  // the test's children: stopped, then killed
constexpr int kChildPidCapacity = 4096;

// Anonymous memory: never malloc on this path. Never unmapped: a late signal
// handler may still write into a stack slot. Signal-safe.
void* MapZeroed(size_t bytes);

// `n` zeroed T's from MapZeroed; null without memory. Signal-safe.
template <typename T>
T* MapArray(int n) {
  return static_cast<T*>(MapZeroed(sizeof(T) * static_cast<size_t>(n)));
}

}  // namespace gtest_watchdog_internal
