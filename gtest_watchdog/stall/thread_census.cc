#include "gtest_watchdog/stall/thread_census.h"

#include <sys/syscall.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>

#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/memory_probe.h"
#include "gtest_watchdog/stall/stack_room.h"
#include "gtest_watchdog/stall/stall_state.h"
#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {
namespace {

// A thread whose stack has less room than this below its SP is not asked
// to unwind itself: the signal frame and the unwinder need ~4-5 KiB.
constexpr uint64_t kMinStackRoom = uint64_t{16} * 1024;

// Moves `tid`, if listed in tids[0..count), into tids[0..keep) (swapping
// it with the last of those), so that listing only the first `keep` threads
// still lists it. No allocation, no lock; signal-safe.
void KeepFirst(pid_t* tids, int count, int keep, pid_t tid) {
  if (tid <= 0 || keep <= 0) return;
  for (int i = 0; i < count; ++i) {
    if (tids[i] != tid) continue;
    if (i >= keep) {
      tids[i] = tids[keep - 1];
      tids[keep - 1] = tid;
    }
    return;
  }
}

// Sleeps until `cpu_sample_ns` after the first CPU sample. The second pass
// visits the threads in the same order and does more per thread than the
// first, so every thread's own interval is at least that long (each is
// measured, not assumed). A thread that was runnable for most of it is
// busy; one that kept being put back on a CPU while using little of it
// makes slow progress. Signal-safe: clock_nanosleep only; no allocation,
// no lock.
void WaitForCpuInterval(const CpuSample* cpu, int count) {
  int64_t start = -1;
  for (int i = 0; i < count && start < 0; ++i) start = cpu[i].at_ns;
  if (start < 0) return;
  const int64_t until = start + g_stall.timings.cpu_sample_ns;
  const timespec wake = {static_cast<time_t>(until / 1000000000),
                         static_cast<long>(until % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr) ==
         EINTR) {
  }
}

}  // namespace

pid_t TestThread() {
  const DeadlineBoard* board = InstalledBoard();
  return board != nullptr ? board->test_thread() : 0;
}

namespace {

// The storage Prepare() mapped, for kPreallocatedThreads threads.
// Signal-safe.
ThreadCensus PreparedStorage() {
  return ThreadCensus{0,          g_stall.tids,  g_stall.kernel, g_stall.stacks,
                      g_stall.in, g_stall.futex, g_stall.cpu};
}

}  // namespace

ThreadCensus ListThreads(const SignalEvent* ev) {
  // Threads: preallocated storage; map more only for bigger processes.
  ThreadCensus t = PreparedStorage();
  int capacity = kPreallocatedThreads;
  int count = t.tids != nullptr ? ListThreadIds(t.tids, capacity) : -1;
  for (int attempt = 0; count > capacity && attempt < 3; ++attempt) {
    const int want = count + count / 2;
    pid_t* more = MapArray<pid_t>(want);
    if (more == nullptr) break;
    t.tids = more;
    capacity = want;
    count = ListThreadIds(t.tids, capacity);
  }
  if (count < 0) count = 0;
  if (count > capacity) count = capacity;  // the rest go unlisted
  if (count > kPreallocatedThreads) {
    // One mapping for all five arrays: all or nothing. Mapped one by one,
    // those that fit would be lost to the rest of the report (never
    // unmapped: a late handler may write a stack slot) in a process near
    // its address-space limit, where the helper's start needs every page.
    t.kernel = nullptr;
    t.stacks = nullptr;
    t.in = nullptr;
    t.futex = nullptr;
    t.cpu = nullptr;
    const size_t n = static_cast<size_t>(count);
    const auto up = [](size_t bytes) { return (bytes + 63) & ~size_t{63}; };
    const size_t kernel_bytes = up(sizeof(KernelThreadInfo) * n);
    const size_t stacks_bytes = up(sizeof(ThreadStack) * n);
    const size_t in_bytes = up(sizeof(SnapshotThreadIn) * n);
    const size_t futex_bytes = up(sizeof(FutexWindow) * n);
    char* block =
        static_cast<char*>(MapZeroed(kernel_bytes + stacks_bytes + in_bytes +
                                     futex_bytes + up(sizeof(CpuSample) * n)));
    if (block != nullptr) {
      t.kernel = reinterpret_cast<KernelThreadInfo*>(block);
      block += kernel_bytes;
      t.stacks = reinterpret_cast<ThreadStack*>(block);
      block += stacks_bytes;
      t.in = reinterpret_cast<SnapshotThreadIn*>(block);
      block += in_bytes;
      t.futex = reinterpret_cast<FutexWindow*>(block);
      block += futex_bytes;
      t.cpu = reinterpret_cast<CpuSample*>(block);
    }
    if (t.kernel == nullptr || t.stacks == nullptr || t.in == nullptr) {
      // No address space left for more (a process near RLIMIT_AS): list as
      // many as the storage prepared at start-up holds, the thread the
      // report is about among them, rather than none.
      pid_t* tids = t.tids;
      t = PreparedStorage();
      t.tids = tids;
      // The signalled thread below the last slot, then the test's thread
      // into it: neither move can push the other out.
      if (ev != nullptr) {
        KeepFirst(tids, count, kPreallocatedThreads - 1, ev->facts.tid);
      }
      KeepFirst(tids, count, kPreallocatedThreads, TestThread());
      count = kPreallocatedThreads;
    }
  }
  if (t.kernel == nullptr || t.stacks == nullptr || t.in == nullptr) count = 0;
  t.count = count;
  return t;
}

void ReadThreads(const ThreadCensus& threads, const SnapshotHeader& header,
                 const SignalEvent* ev) {
  const int count = threads.count;
  pid_t* tids = threads.tids;
  KernelThreadInfo* kernel = threads.kernel;
  ThreadStack* stacks = threads.stacks;
  SnapshotThreadIn* in = threads.in;
  FutexWindow* futex = threads.futex;
  CpuSample* cpu = threads.cpu;

  // The room left on each blocked thread's stack, from the mappings.
  // Parsed once, searched per thread: with thousands of threads the maps
  // have thousands of lines.
  // Static: 4 MiB is too big for a stack, and reserved at load time it
  // cannot fail the way a mapping made now could, with the address space
  // exhausted; only the watchdog thread reports, once per process.
  static char maps[4 << 20];
  const ssize_t maps_len = ReadProcFile("/proc/self/maps", maps, sizeof(maps));
  int lines = 0;
  for (ssize_t c = 0; c < maps_len; ++c) lines += maps[c] == '\n';
  Mapping* mappings = maps_len > 0 ? MapArray<Mapping>(lines + 1) : nullptr;
  const int mapping_count =
      mappings != nullptr ? ParseMappings(maps, static_cast<size_t>(maps_len),
                                          mappings, lines + 1)
                          : 0;

  // CPU use over an interval in which nothing disturbs the threads: first
  // samples, the wait, then the second sample with everything else, right
  // before the stacks (so the system call and futex memory read below are
  // as fresh as the stacks). Not for a crash: the crash is the verdict.
  const bool sample_cpu = cpu != nullptr && g_stall.timings.cpu_sample_ns > 0 &&
                          strcmp(header.kind, "crash") != 0;
  if (sample_cpu) {
    for (int i = 0; i < count; ++i) SampleThreadCpu(tids[i], &cpu[i]);
    WaitForCpuInterval(cpu, count);
  }

  const int sig = StackCollector::signal_number();
  for (int i = 0; i < count; ++i) {
    new (&kernel[i]) KernelThreadInfo();
    new (&stacks[i]) ThreadStack();
    ReadKernelThreadInfo(tids[i], &kernel[i]);
    if (sample_cpu && !kernel[i].gone) {
      CpuSample second;
      SampleThreadCpu(tids[i], &second);
      SetCpuUse(cpu[i], second, &kernel[i]);
    }
    stacks[i].tid = tids[i];
    StackStatus status = StackStatus::kNoAnswer;
    const char st = kernel[i].state;
    if (ev != nullptr && tids[i] == ev->facts.tid) {
      // The signalled thread: its handler unwound it from the interrupted
      // instruction (at least the PC); asked again, it would show the
      // handler's frames.
      status = StackStatus::kOk;
      // /proc shows our handler's wait: the call it interrupted instead.
      kernel[i].syscall_nr = ev->facts.syscall_nr;
      memcpy(kernel[i].syscall_args, ev->facts.syscall_args,
             sizeof(kernel[i].syscall_args));
      stacks[i].depth = ev->stack.depth;
      stacks[i].truncated = ev->stack.truncated;
      memcpy(stacks[i].pcs, ev->stack.pcs, sizeof(stacks[i].pcs));
      stacks[i].state.store(static_cast<int>(StackState::kDone));
    } else if (kernel[i].gone) {
      status = StackStatus::kExited;
    } else if (tids[i] == g_stall.watchdog_tid) {
      status = StackStatus::kSelf;
    } else if (sig != 0 && (kernel[i].sig_blocked >> (sig - 1)) & 1) {
      status = StackStatus::kSignalsBlocked;
    } else if (st == 'D' || st == 'T' || st == 't' || st == 'Z' || st == 'X') {
      status = StackStatus::kUninterruptible;
    } else if (kernel[i].sp != 0 && mapping_count > 0 &&
               StackRoom(mappings, mapping_count, kernel[i].sp) <
                   kMinStackRoom) {
      status = StackStatus::kSmallStack;  // a handler would overflow it
    } else {
      stacks[i].state.store(static_cast<int>(StackState::kRequested));
    }
    in[i] = SnapshotThreadIn{&kernel[i], &stacks[i], status, nullptr};
    // The memory around a futex a thread sleeps on tells whose lock it is.
    if (futex != nullptr && kernel[i].syscall_nr == SYS_futex &&
        !kernel[i].gone) {
      ProbeFutexWindow(kernel[i].syscall_args[0], &futex[i]);
      in[i].futex = &futex[i];
    }
  }
}

void SettleStackStatuses(const ThreadCensus& threads) {
  const int count = threads.count;
  ThreadStack* stacks = threads.stacks;
  SnapshotThreadIn* in = threads.in;
  for (int i = 0; i < count; ++i) {
    const int st = stacks[i].state.load();
    if (st == static_cast<int>(StackState::kDone)) {
      in[i].status = StackStatus::kOk;
    } else if (st == static_cast<int>(StackState::kAbandoned) ||
               st == static_cast<int>(StackState::kNotSent)) {
      // Distinguish "exited meanwhile" from "did not answer".
      char path[64];
      RawWriter p(-1);
      p.Str("/proc/self/task/").Dec(stacks[i].tid).Str("/stat");
      memcpy(path, p.data(), p.size());
      path[p.size()] = '\0';
      char probe[8];
      in[i].status = ReadProcFile(path, probe, sizeof(probe)) > 0
                         ? StackStatus::kNoAnswer
                         : StackStatus::kExited;
    }
  }
}

}  // namespace gtest_watchdog_internal
