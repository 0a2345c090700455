// File: gtest_watchdog/dump/proc_threads.h
//
// What the kernel says about this process's threads, read from
// /proc/self/task without the threads' cooperation: the list of thread ids,
// and for each its name, scheduler state, wait channel, blocked signals and
// the system call it sits in (number, arguments, stack and program counter).
// A thread that blocks every signal, or sleeps uninterruptibly, still gets
// this much in the report.
//
// Every function here is async-signal-safe: open/read/close/getdents64 into
// caller-provided storage; no allocation, no lock, no stdio.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace gtest_watchdog_internal {

// Syscall states besides a real number.
constexpr long kSyscallRunning = -2;  // "running": on a CPU, not in a syscall
constexpr long kSyscallUnknown = -3;  // file unreadable or thread gone

struct KernelThreadInfo {
  pid_t tid = 0;
  bool gone = false;   // exited while we looked
  char state = '?';    // stat field 3: R S D T t Z X I ...
  char name[17] = {};  // comm
  char wchan[48] = {};
  uint64_t sig_blocked = 0;  // SigBlk bit (n-1) set when signal n is blocked
  long syscall_nr = kSyscallUnknown;  // -1: not in a syscall, stopped
  uint64_t syscall_args[6] = {};
  uint64_t sp = 0;
  uint64_t pc = 0;  // user-space PC: one symbolizable frame without unwinding
  // CPU use between two samples (SampleThreadCpu, twice): tells a thread
  // that runs (busy) from one that waits, and one that keeps waking up
  // (slow progress) from one that never does. -1: not measured.
  int64_t cpu_ns = -1;       // on a CPU during the interval
  int64_t queued_ns = -1;    // runnable, waiting for a CPU (a loaded machine)
  int64_t wakeups = -1;      // times it was put on a CPU during it
  int64_t interval_ns = -1;  // how long the interval was
};

// One reading of a thread's scheduler counters.
struct CpuSample {
  int64_t at_ns = -1;      // CLOCK_MONOTONIC when read
  int64_t cpu_ns = -1;     // total on-CPU time so far
  int64_t queued_ns = -1;  // total time runnable but not running; -1 unknown
  int64_t runs = -1;       // times put on a CPU so far; -1 unknown
};

// Reads /proc/self/task/TID/schedstat: on-CPU and run-queue nanoseconds and
// how many times the thread was put on a CPU (woken up, or resumed after
// being preempted) — one small file, so that sampling thousands of threads
// stays cheap. Without it (no CONFIG_SCHED_INFO), stat's utime+stime in
// clock ticks. Leaves *out at -1s if the thread is gone. Signal-safe.
void SampleThreadCpu(pid_t tid, CpuSample* out);

// Fills info's cpu_ns/queued_ns/wakeups/interval_ns from two samples of one
// thread; leaves them at -1 when either sample is missing. Signal-safe.
void SetCpuUse(const CpuSample& first, const CpuSample& second,
               KernelThreadInfo* info);

// Parsers for SampleThreadCpu's sources. Signal-safe.
// "<on-cpu ns> <run-queue wait ns> <times run>\n".
bool ParseSchedstat(const char* text, size_t len, int64_t* cpu_ns,
                    int64_t* queued_ns, int64_t* runs);
// utime + stime (fields 14 and 15 of stat), in clock ticks. Signal-safe.
bool ParseStatCpuTicks(const char* stat, size_t len, int64_t* ticks);

// Lists the thread ids of this process into tids[0..capacity). Returns the
// total number found (may exceed capacity: call again with more room), or
// -1 if /proc/self/task cannot be read. Signal-safe.
int ListThreadIds(pid_t* tids, int capacity);

// Fills *info for `tid`. Missing pieces stay at their defaults; a thread that
// has exited is marked gone. Signal-safe.
void ReadKernelThreadInfo(pid_t tid, KernelThreadInfo* info);

// Parsers, separated from the reads for unit tests. Signal-safe.
// `stat` is the content of /proc/.../stat (comm may contain spaces and ')').
char ParseStatState(const char* stat, size_t len);
// `text` is the content of /proc/.../syscall. Signal-safe.
void ParseSyscallLine(const char* text, size_t len, KernelThreadInfo* info);
// Finds "SigBlk:\t<hex>" in /proc/.../status content. Signal-safe.
uint64_t ParseSigBlk(const char* status, size_t len);

// Parses hex digits (no "0x") at p, advancing past them. False if none.
// Signal-safe.
bool ParseHex(const char*& p, const char* end, uint64_t* out);

// Parses a directory entry name that is all digits (a pid or tid); 0
// otherwise ("." and ".."). Signal-safe.
pid_t NumericName(const char* s);

// Calls on_entry(id) for each numeric entry of the directory open as `fd`
// (/proc, /proc/PID/task): getdents64 into a stack buffer, no allocation,
// no lock. Signal-safe: when on_entry is.
template <typename OnEntry>
void ForEachNumericEntry(int fd, OnEntry&& on_entry) {
  struct LinuxDirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[1];
  };
  alignas(8) char buf[4096];
  for (;;) {
    const long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
      off += d->d_reclen;
      const pid_t id = NumericName(d->d_name);
      if (id > 0) on_entry(id);
    }
  }
}

// Reads a small /proc file into buf (NUL-terminated). Returns bytes read or
// -1. Signal-safe.
ssize_t ReadProcFile(const char* path, char* buf, size_t cap);

}  // namespace gtest_watchdog_internal
