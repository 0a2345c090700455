#include "gtest_watchdog/dump/stack_collector.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/dump/signal_info.h"

namespace gtest_watchdog_internal {
namespace {

std::atomic<int> g_signal{0};
std::atomic<ThreadStack*> g_slots{nullptr};
std::atomic<int> g_slot_count{0};
std::atomic<uint32_t> g_answered{0};  // futex word
// The answer count at which a handler wakes the collector: only the last
// answer does, not each of thousands (every wake-up a context switch on a
// machine the answering threads need). INT_MAX while signals are being sent.
std::atomic<int> g_wake_at{INT_MAX};
pid_t g_pid = 0;

struct UnwindState {
  uint64_t raw[kMaxFrames + 8];
  bool exact[kMaxFrames + 8];
  int n = 0;
  bool truncated = false;
};

_Unwind_Reason_Code OnFrame(_Unwind_Context* ctx, void* arg) {
  auto* st = static_cast<UnwindState*>(arg);
  if (st->n == static_cast<int>(sizeof(st->raw) / sizeof(st->raw[0]))) {
    st->truncated = true;
    return _URC_END_OF_STACK;
  }
  int before_insn = 0;
  const uint64_t ip = _Unwind_GetIPInfo(ctx, &before_insn);
  if (ip == 0) return _URC_END_OF_STACK;
  st->raw[st->n] = ip;
  st->exact[st->n] = before_insn != 0;  // signal frame: ip is not a return
  ++st->n;
  return _URC_NO_REASON;
}

// Unwinds the current thread and copies into `slot` the frames from
// `start_pc` (the interrupted instruction) outwards; with start_pc == 0, all
// frames but this function's own (hence noinline). Returns false if the
// interrupted frame was not found (the frames would be the handler's own).
// Signal-safe.
__attribute__((noinline)) bool UnwindInto(ThreadStack* slot,
                                          uint64_t start_pc) {
  UnwindState st;
  _Unwind_Backtrace(&OnFrame, &st);
  int first = 1;  // skip UnwindInto itself
  if (start_pc != 0) {
    first = -1;
    for (int i = 0; i < st.n; ++i) {
      if (st.raw[i] == start_pc && st.exact[i]) {
        first = i;
        break;
      }
    }
    if (first < 0) {
      slot->depth = 0;
      return false;
    }
  }
  int depth = 0;
  for (int i = first; i < st.n && depth < kMaxFrames; ++i) {
    slot->pcs[depth++] = st.exact[i] ? st.raw[i] : st.raw[i] - 1;
  }
  slot->depth = depth;
  slot->truncated = st.truncated || (st.n - first) > kMaxFrames;
  return true;
}

void Handler(int, siginfo_t* info, void* ucontext) {
  if (info->si_code != SI_QUEUE || info->si_pid != g_pid) return;
  const int saved_errno = errno;
  const int index = info->si_value.sival_int;
  ThreadStack* slots = g_slots.load(std::memory_order_acquire);
  if (slots != nullptr && index >= 0 &&
      index < g_slot_count.load(std::memory_order_acquire)) {
    ThreadStack* slot = &slots[index];
    int expected = static_cast<int>(StackState::kRequested);
    // The tid check guards against a late signal to a reused thread id.
    if (slot->tid == static_cast<pid_t>(syscall(SYS_gettid)) &&
        slot->state.compare_exchange_strong(
            expected, static_cast<int>(StackState::kWriting))) {
      const auto* uc = static_cast<const ucontext_t*>(ucontext);
      // Not on POSIX's list, but glibc's pthread_self() is one read of the
      // thread register: no call, lock or allocation.
      slot->thread_pointer = static_cast<uint64_t>(pthread_self());
      const bool ok = UnwindInto(
          slot, static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_RIP]));
      slot->state.store(
          static_cast<int>(ok ? StackState::kDone : StackState::kAbandoned),
          std::memory_order_release);
      // Sequentially consistent, as Collect's store of g_wake_at and load
      // of g_answered: either it sees our answer, or we see its count.
      const uint32_t answered = g_answered.fetch_add(1) + 1;
      if (static_cast<int64_t>(answered) >= g_wake_at.load()) {
        syscall(SYS_futex, reinterpret_cast<uint32_t*>(&g_answered),
                FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, nullptr, nullptr, 0);
      }
    }
  }
  errno = saved_errno;
}

// Signal-safe (sigaction).
bool InstallHandler(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = &Handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  return sigaction(sig, &sa, nullptr) == 0;
}

}  // namespace

int StackCollector::Install() {
  if (g_signal.load() != 0) return g_signal.load();
  g_pid = getpid();
  // Highest free real-time signal: low ones are the ones programs and
  // libraries pick first (glibc itself reserves those below SIGRTMIN).
  const int chosen = FreeRealTimeSignal(SIGRTMAX - 2);
  if (chosen == 0 || !InstallHandler(chosen)) return 0;
  // Warm-up: the first _Unwind_Backtrace may resolve symbols lazily.
  ThreadStack warm;
  UnwindInto(&warm, 0);
  g_signal.store(chosen);
  return chosen;
}

int StackCollector::signal_number() { return g_signal.load(); }

bool StackCollector::UnwindInterrupted(ThreadStack* slot,
                                       uint64_t interrupted_pc) {
  if (interrupted_pc == 0) {
    slot->depth = 0;
    return false;
  }
  return UnwindInto(slot, interrupted_pc);
}

int StackCollector::Collect(ThreadStack* slots, int count,
                            int64_t deadline_ns) {
  const int sig = g_signal.load();
  // The program may have replaced or reset our handler since start-up;
  // without it our signal would kill the process. Take it back.
  struct sigaction current;
  if (sig != 0 && sigaction(sig, nullptr, &current) == 0 &&
      current.sa_sigaction != &Handler) {
    InstallHandler(sig);
  }
  g_wake_at.store(INT_MAX);
  g_answered.store(0);
  // Count last: a late handler must never pair new slots with an old count.
  g_slot_count.store(0, std::memory_order_release);
  g_slots.store(slots, std::memory_order_release);
  g_slot_count.store(count, std::memory_order_release);
  const uid_t uid = getuid();
  int sent = 0;
  for (int i = 0; i < count; ++i) {
    ThreadStack& s = slots[i];
    if (s.state.load() != static_cast<int>(StackState::kRequested)) continue;
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    info.si_signo = sig;
    info.si_code = SI_QUEUE;
    info.si_pid = g_pid;
    info.si_uid = uid;
    info.si_value.sival_int = i;
    // Thread-directed (sigqueue would be process-directed).
    if (sig == 0 ||
        syscall(SYS_rt_tgsigqueueinfo, g_pid, s.tid, sig, &info) != 0) {
      s.state.store(static_cast<int>(StackState::kNotSent));
      continue;
    }
    ++sent;
  }
  g_wake_at.store(sent);
  for (;;) {
    const uint32_t answered = g_answered.load();
    if (static_cast<int>(answered) >= sent) break;
    const int64_t now = MonotonicNowNs();
    if (now >= deadline_ns) break;
    timespec abs;
    abs.tv_sec = deadline_ns / 1000000000;
    abs.tv_nsec = deadline_ns % 1000000000;
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&g_answered),
            FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, answered, &abs, nullptr,
            FUTEX_BITSET_MATCH_ANY);
  }
  int done = 0;
  for (int i = 0; i < count; ++i) {
    int expected = static_cast<int>(StackState::kRequested);
    // A handler still in kWriting is let finish briefly: it is unwinding.
    slots[i].state.compare_exchange_strong(
        expected, static_cast<int>(StackState::kAbandoned));
  }
  const int64_t grace_end = MonotonicNowNs() + 50000000;
  for (int i = 0; i < count; ++i) {
    while (slots[i].state.load() == static_cast<int>(StackState::kWriting) &&
           MonotonicNowNs() < grace_end) {
      sched_yield();
    }
    if (slots[i].state.load() == static_cast<int>(StackState::kDone)) ++done;
  }
  return done;
}

}  // namespace gtest_watchdog_internal
