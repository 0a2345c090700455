// File: gtest_watchdog/dump/child_processes.h
//
// The processes a test started (a server, a `sleep`, a shell and its
// children): found through /proc so the stall report can list them, and
// ended before the watchdog aborts so that none keeps running after the test
// binary dies.
//
// Two sides:
//  - the stalled process: ListDescendants, FreezeDescendants and the
//    pid/stat parsers are async-signal-safe:
//    system calls only (open, read, close, getdents64, kill, waitpid,
//    getpid, getpgid, clock_gettime, nanosleep) into caller-provided or
//    stack storage; no allocation, no lock, no stdio;
//  - the report helper: ListChildProcesses and the string helpers allocate.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gtest_watchdog_internal {

// One of the test program's child processes (or theirs), as the report
// helper lists it.
struct ChildProcess {
  pid_t pid = 0;
  pid_t ppid = 0;       // our pid, or another child's (a grandchild)
  char state = '?';     // from /proc/PID/stat
  std::string command;  // /proc/PID/cmdline, arguments joined by spaces
};

// ---------------------------------------------------------------------------
// Stalled-process side: async-signal-safe.
// ---------------------------------------------------------------------------

// Lists every descendant of `root` (children, grandchildren, ...) into
// out[0..capacity), breadth-first, so a parent always precedes its children.
// `exclude` (the report helper; 0 for none) and its descendants are left
// out. Reads /proc/ROOT/task/*/children (a child belongs to the thread that
// started it, so every thread's file counts); uses
// ListDescendantsByStatScan instead when the kernel has no such files
// (CONFIG_PROC_CHILDREN), or when ROOT has more than twice as many threads
// as the host has processes (and over 64), for which the scan opens fewer
// files. Returns the count, at most `capacity` (a full
// buffer may mean more exist), or -1 if /proc/ROOT cannot be read.
// Signal-safe: no allocation, no lock.
int ListDescendants(pid_t root, pid_t exclude, pid_t* out, int capacity);

// The same from /proc/*/stat's ppid fields (one scan of /proc per tree
// level). The fallback; exposed for tests. Returns the count (at most
// `capacity`) or -1 if /proc cannot be read.
// Signal-safe: no allocation, no lock.
int ListDescendantsByStatScan(pid_t root, pid_t exclude, pid_t* out,
                              int capacity);

// Stops (SIGSTOP) every descendant of `root`, listing the tree again until
// no process started meanwhile is left running, and stores their pids in
// out[0..capacity). Stopped, they can neither exit (waking a test that
// waits for them) nor start more; the caller kills them later. Never
// signals pids <= 1 or ourselves. `exclude` (and what it started) is left
// alone: the report helper, which must stay free to finish and to kill the
// others later. Returns the count, or -1 if /proc/ROOT cannot be read.
// Signal-safe: no allocation, no lock.
int FreezeDescendants(pid_t root, pid_t* out, int capacity, pid_t exclude = 0);

// Parsers, separated from the reads for unit tests. No allocation, no lock,
// signal-safe.
//
// `text` is the content of /proc/PID/task/TID/children: decimal pids
// separated by spaces. Stores up to `capacity` of them; returns how many
// were stored. Signal-safe.
int ParseChildrenList(const char* text, size_t len, pid_t* out, int capacity);
// `stat` is the content of /proc/PID/stat ("pid (comm) S ppid pgrp ...";
// comm may contain spaces and ')', so fields are counted from the last ')').
// False if malformed. Signal-safe.
bool ParseStatPpid(const char* stat, size_t len, pid_t* ppid, char* state);

// ---------------------------------------------------------------------------
// Report-helper side: allocates, not signal-safe.
// ---------------------------------------------------------------------------

// The descendants of `root` except `exclude` and its descendants, in tree
// order (depth-first: each process is followed by its own children), with
// ppid, state and command line. A process that exits while we look is left
// out; one whose arguments are not set yet (mid-execve) is re-read for up
// to 10 ms. A process without arguments (a zombie) shows "[comm]", as ps
// does. Empty if /proc/ROOT cannot be read. Helper process only: allocates
// (malloc's lock), may sleep.
std::vector<ChildProcess> ListChildProcesses(pid_t root, pid_t exclude);

// /proc/PID/cmdline content (NUL-separated arguments) as one line joined by
// spaces, at most kMaxCommandChars long ("..." marks a cut). Helper process
// only: allocates.
constexpr size_t kMaxCommandChars = 4096;
std::string CommandFromCmdline(const std::string& cmdline);
// The comm field of /proc/PID/stat content (between the first '(' and the
// last ')'); empty if malformed. Helper process only: allocates.
std::string CommFromStat(const char* stat, size_t len);

}  // namespace gtest_watchdog_internal
