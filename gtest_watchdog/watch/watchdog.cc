#include "gtest_watchdog/watch/watchdog.h"

#include <pthread.h>

namespace gtest_watchdog_internal {

Decision DecideNext(const ArmedPhase& armed, int64_t now_ns, int64_t idle_ns,
                    uint64_t already_fired_generation) {
  Decision d;
  if (!armed.armed() || armed.generation == already_fired_generation) {
    d.wake_ns = now_ns + idle_ns;
    return d;
  }
  if (now_ns >= armed.deadline_ns()) {
    d.fire = true;
    d.wake_ns = now_ns;
    return d;
  }
  d.wake_ns = armed.deadline_ns();
  return d;
}

Watchdog::Watchdog(DeadlineBoard* board, int64_t idle_ns, StallHandler on_stall,
                   ThreadStartHook on_start)
    : board_(board),
      idle_ns_(idle_ns),
      on_stall_(on_stall),
      on_start_(on_start) {}

Watchdog::~Watchdog() { Stop(); }

void Watchdog::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Watchdog::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  board_->Kick();
  thread_.join();
}

void Watchdog::Run() {
  pthread_setname_np(pthread_self(), "gtest_watchdog");
  if (on_start_ != nullptr) on_start_();
  uint64_t fired = ~uint64_t{0};
  while (!stop_.load()) {
    const ArmedPhase armed = board_->Read();
    const int64_t now = MonotonicNowNs();
    const Decision d = DecideNext(armed, now, idle_ns_, fired);
    if (d.fire) {
      fired = armed.generation;
      on_stall_(armed, now);  // normally never returns (abort)
      continue;
    }
    const uint32_t seen = board_->PlanWake(d.wake_ns);
    // Re-read after announcing the wake-up: an Arm() that raced with us is
    // either seen here or saw our plan and kicked the futex word.
    if (board_->Generation() != armed.generation) continue;
    if (stop_.load()) break;
    board_->WaitUntil(seen, d.wake_ns);
  }
}

}  // namespace gtest_watchdog_internal
