// File: gtest_watchdog/diagnose/blocking_call.h
//
// What a blocked thread waits for, from outside the process: the system
// call it sits in (number and arguments, read by the stalled process from
// /proc/self/task/TID/syscall) decoded against the process's descriptors
// (descriptor_facts.h says what each is), its child processes and the
// memory its arguments point to. A read() becomes "pipe (read end; write
// end held by this process: fd 7)", a recvfrom() "TCP socket
// 127.0.0.1:40112 -> 127.0.0.1:5555 (established)", a wait4() the child's
// pid and command.
//
// Report helper process only: allocates, not signal-safe. Everything it
// learns about the process comes through a ProcView, so it is unit-tested
// against a made-up process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gtest_watchdog/diagnose/descriptor_facts.h"
#include "gtest_watchdog/diagnose/proc_view.h"
#include "gtest_watchdog/dump/child_processes.h"
#include "gtest_watchdog/dump/snapshot.h"

namespace gtest_watchdog_internal {

enum class BlockKind {
  kUnknown,  // no system call information
  kRunning,  // on a CPU, or not in a system call
  kFd,       // waits on descriptors (I/O, poll, accept, connect, ...)
  kChild,    // waits for a child process
  kSleep,    // sleeps for a time
  kSignal,   // waits for a signal
  kFutex,    // a futex: lock_analysis says which lock or condition
  kMemory,   // a memory-map call: waits for another thread of ours
  kOther,    // another system call
};

struct BlockingCall {
  BlockKind kind = BlockKind::kUnknown;
  long nr = -1;
  std::string name;  // "recvfrom"; "" when not in a system call
  uint64_t args[6] = {};
  std::vector<FdFacts> fds;  // kFd: the descriptors waited on
  // kChild: "child pid 42", "any child", "any child in process group 7".
  std::string wait_for;
  std::vector<ChildProcess> children;  // kChild: those it may be waiting for
  // kSleep: asked for; what was left for an absolute sleep, or when the
  // request doubles as the remainder (std::this_thread::sleep_for).
  int64_t sleep_ns = -1;
  bool sleep_absolute = false;  // kSleep: until a point in time
  std::string clock;            // kSleep: "CLOCK_MONOTONIC", ...
  std::vector<int> signals;     // kSignal: awaited; empty = any
  int64_t timeout_ms = -1;      // poll/epoll: its timeout; -1 none
  // kFutex: a timed wait's time left (for a relative timeout, what it
  // asked for); -1: no timeout, or not known.
  int64_t timeout_left_ns = -1;
  // "recvfrom() on fd 5: TCP socket ..."; "" for futexes (the lock
  // analysis words those) and threads on a CPU.
  std::string text;
};

// Decodes the blocking calls of one stalled process. Its descriptors are
// described by an FdDescriber, which reads the socket and descriptor
// tables once, on first need. Helper process only: allocates; locks: no;
// signal-safe: no.
class CallDecoder {
 public:
  CallDecoder(const ProcView& view, pid_t pid,
              std::vector<ChildProcess> children);

  BlockingCall Decode(const SnapshotThread& t);
  FdFacts DescribeFd(int fd);

 private:
  void DescribeFds(BlockingCall* call);
  void DescribeChildren(BlockingCall* call, long which, pid_t id);
  pid_t ProcessGroup(pid_t pid);  // 0 unknown
  void DescribeSleep(BlockingCall* call, int clock, bool absolute,
                     uint64_t timespec_addr, uint64_t rem_addr);
  void FutexTimeout(BlockingCall* call);
  std::string ReadString(uint64_t addr);
  // A timespec (or timeval) at addr in ms; -1 for null or unreadable.
  int64_t TimeoutMs(uint64_t addr, bool timeval);

  const ProcView& view_;
  pid_t pid_;
  std::vector<ChildProcess> children_;
  FdDescriber fds_;
};

// The call's name and kind, without looking at the process (for a model
// built without one). Helper process only.
BlockingCall UndecodedCall(const SnapshotThread& t);

}  // namespace gtest_watchdog_internal
