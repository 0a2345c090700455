#include "gtest_watchdog/stall/stack_samples.h"

#include <time.h>

#include <cerrno>
#include <new>

#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/stall/stall_state.h"

namespace gtest_watchdog_internal {
namespace {

// A thread answers its signal in microseconds unless it cannot run at all;
// the first round already waited the full answer timeout for stragglers.
constexpr int64_t kSampleAnswerNs = 250000000;

// How long the thread was runnable in the window, for picking the busiest.
// Signal-safe.
int64_t Runnable(const KernelThreadInfo& k) {
  return (k.cpu_ns > 0 ? k.cpu_ns : 0) + (k.queued_ns > 0 ? k.queued_ns : 0);
}

// Sleeps `ns`, through EINTR. Signal-safe.
void SleepNs(int64_t ns) {
  timespec left = {static_cast<time_t>(ns / 1000000000),
                   static_cast<long>(ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR) {
  }
}

}  // namespace

bool RanInWindow(const KernelThreadInfo& k) {
  return k.interval_ns > 0 && (k.cpu_ns > 0 || k.wakeups > 0);
}

int TakeExtraSamples(const ThreadCensus& threads, SnapshotHeader* header,
                     const SignalEvent* ev) {
  ThreadStack* slots = g_stall.sample_slots;
  if (slots == nullptr || threads.in == nullptr) return 0;
  // The chosen threads' census indices; picked by repeated maximum (no
  // allocation, at most kMaxSampledThreads passes).
  int chosen[kMaxSampledThreads];
  int n = 0;
  for (; n < kMaxSampledThreads; ++n) {
    int best = -1;
    for (int i = 0; i < threads.count; ++i) {
      const KernelThreadInfo& k = threads.kernel[i];
      if (threads.in[i].status != StackStatus::kOk || !RanInWindow(k) ||
          k.tid == g_stall.watchdog_tid ||
          (ev != nullptr && k.tid == ev->facts.tid)) {
        continue;
      }
      bool taken = false;
      for (int j = 0; j < n && !taken; ++j) taken = chosen[j] == i;
      if (taken) continue;
      if (best < 0 || Runnable(k) > Runnable(threads.kernel[best])) best = i;
    }
    if (best < 0) break;
    chosen[n] = best;
  }
  if (n == 0) return 0;

  const int64_t first = MonotonicNowNs();
  for (int round = 0; round < kExtraStackSamples; ++round) {
    SleepNs(g_stall.timings.stack_sample_gap_ns);
    ThreadStack* row =
        slots + static_cast<ptrdiff_t>(round) * kMaxSampledThreads;
    for (int j = 0; j < n; ++j) {
      new (&row[j]) ThreadStack();
      row[j].tid = threads.tids[chosen[j]];
      row[j].state.store(static_cast<int>(StackState::kRequested));
    }
    const int64_t at = MonotonicNowNs();
    StackCollector::Collect(row, n, at + kSampleAnswerNs);
    header->sample_offset_ns[round] = at - first;
    header->extra_samples = round + 1;
    for (int j = 0; j < n; ++j) {
      if (row[j].state.load() == static_cast<int>(StackState::kDone)) {
        threads.in[chosen[j]].extra[round] = &row[j];
      }
    }
  }
  return n;
}

}  // namespace gtest_watchdog_internal
