#include "gtest_watchdog/watch/deadline_board.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace gtest_watchdog_internal {

namespace {
std::atomic<DeadlineBoard*> g_installed_board{nullptr};
}  // namespace

void ParkForever() {
  // Never changes: only the end of the process ends the wait.
  static uint32_t never = 0;
  for (;;) {
    syscall(SYS_futex, &never, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, nullptr,
            nullptr, 0);
  }
}

DeadlineBoard* InstalledBoard() {
  return g_installed_board.load(std::memory_order_acquire);
}

void SetInstalledBoard(DeadlineBoard* board) {
  g_installed_board.store(board, std::memory_order_release);
}

void DeadlineBoard::Publish(Phase phase, const void* subject, int64_t start_ns,
                            int64_t limit_ns, const char* origin) {
  const uint64_t s = seq_.load(std::memory_order_relaxed);
  // seq_cst store, then seq_cst load of frozen_ (Dekker with Freeze()):
  // either Freeze() sees this publish through, or we see the freeze and
  // back out without having changed anything.
  seq_.store(s + 1, std::memory_order_seq_cst);
  if (frozen_.load(std::memory_order_seq_cst)) {
    seq_.store(s, std::memory_order_seq_cst);
    ParkForever();
  }
  // Release stores (no fences, which ThreadSanitizer does not model): a
  // reader that sees any new field also sees the odd sequence number.
  // On x86-64 these are plain moves.
  phase_.store(static_cast<int>(phase), std::memory_order_release);
  subject_.store(subject, std::memory_order_release);
  start_ns_.store(start_ns, std::memory_order_release);
  limit_ns_.store(limit_ns, std::memory_order_release);
  origin_.store(origin, std::memory_order_release);
  // seq_cst pairs with PlanWake(): either the watchdog sees this phase when
  // it re-reads the board, or we see its planned wake-up below.
  seq_.store(s + 2, std::memory_order_seq_cst);
}

void DeadlineBoard::Arm(Phase phase, const void* subject, int64_t now_ns,
                        int64_t limit_ns, const char* origin) {
  if (limit_ns < 0) limit_ns = 0;
  Publish(phase, subject, now_ns, limit_ns, origin);
  int64_t first_event = limit_ns > 0 ? limit_ns : INT64_MAX;
  if (phase == Phase::kTest && slow_ns_ > 0 && slow_ns_ < first_event) {
    first_event = slow_ns_;
  }
  if (first_event != INT64_MAX &&
      now_ns + first_event < planned_wake_ns_.load(std::memory_order_seq_cst)) {
    Kick();  // rare: an earlier event than the watchdog planned for
  }
}

void DeadlineBoard::Disarm() { Publish(Phase::kNone, nullptr, 0, 0, ""); }

ArmedPhase DeadlineBoard::Read() const {
  ArmedPhase snap;
  for (int spin = 0;; ++spin) {
    const uint64_t before = seq_.load(std::memory_order_acquire);
    if (before & 1) {
      // Writer mid-publish: a few stores, retry. Unless the board is
      // frozen and the writer is the thread a signal interrupted there,
      // waiting for our report: then take the fields as they are.
      if (spin >= (1 << 20) && frozen_.load(std::memory_order_acquire)) {
        return RawFields();
      }
      continue;
    }
    snap.phase = static_cast<Phase>(phase_.load(std::memory_order_acquire));
    snap.subject = subject_.load(std::memory_order_acquire);
    snap.start_ns = start_ns_.load(std::memory_order_acquire);
    snap.limit_ns = limit_ns_.load(std::memory_order_acquire);
    snap.origin = origin_.load(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == before) {
      snap.generation = before;
      return snap;
    }
  }
}

uint32_t DeadlineBoard::PlanWake(int64_t wake_ns) {
  const uint32_t seen = wake_word_.load(std::memory_order_seq_cst);
  planned_wake_ns_.store(wake_ns, std::memory_order_seq_cst);
  return seen;
}

void DeadlineBoard::WaitUntil(uint32_t seen, int64_t wake_ns) {
  timespec abs;
  abs.tv_sec = wake_ns / 1000000000;
  abs.tv_nsec = wake_ns % 1000000000;
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so spurious
  // wake-ups and EINTR need no re-computation of a relative timeout.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_word_),
          FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, seen,
          wake_ns == INT64_MAX ? nullptr : &abs, nullptr,
          FUTEX_BITSET_MATCH_ANY);
}

ArmedPhase DeadlineBoard::Freeze() {
  frozen_.store(true, std::memory_order_seq_cst);
  // Waits out a publish that began before the freeze — but not for ever:
  // the publishing thread may be the very one a signal interrupted. Then
  // the fields are taken as they are.
  return Read();  // bounded now that the board is frozen
}

ArmedPhase DeadlineBoard::RawFields() const {
  ArmedPhase snap;
  snap.generation = seq_.load(std::memory_order_acquire);
  // Mid-publish, the phase and its subject may not belong together (a
  // suite's phase with a test's pointer): report no phase rather than
  // misread one.
  if (snap.generation & 1) return snap;
  snap.phase = static_cast<Phase>(phase_.load(std::memory_order_acquire));
  snap.subject = subject_.load(std::memory_order_acquire);
  snap.start_ns = start_ns_.load(std::memory_order_acquire);
  snap.limit_ns = limit_ns_.load(std::memory_order_acquire);
  snap.origin = origin_.load(std::memory_order_acquire);
  return snap;
}

void DeadlineBoard::RequestReport() {
  report_requested_.store(true, std::memory_order_seq_cst);
  Kick();
}

void DeadlineBoard::Kick() {
  wake_word_.fetch_add(1, std::memory_order_seq_cst);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&wake_word_),
          FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, nullptr, nullptr, 0);
}

}  // namespace gtest_watchdog_internal
