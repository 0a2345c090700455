#include "gtest_watchdog/watch/watchdog.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>

#include "gtest_watchdog/base/clock.h"

namespace gtest_watchdog_internal {

Decision DecideNext(const ArmedPhase& armed, int64_t now_ns, int64_t idle_ns,
                    const WatchState& state, int64_t slow_ns,
                    int64_t total_deadline_ns) {
  Decision d;
  d.wake_ns = INT64_MAX;  // the earliest pending event; idle if none
  if (!state.total_fired && total_deadline_ns != INT64_MAX) {
    if (now_ns >= total_deadline_ns) {
      d.action = Action::kFireTotal;
      d.wake_ns = now_ns;
      return d;
    }
    d.wake_ns = std::min(d.wake_ns, total_deadline_ns);
  }
  if (armed.armed() && armed.generation != state.fired_generation) {
    if (now_ns >= armed.deadline_ns()) {
      d.action = Action::kFire;
      d.wake_ns = now_ns;
      return d;
    }
    d.wake_ns = std::min(d.wake_ns, armed.deadline_ns());
  }
  if (slow_ns > 0 && armed.phase == Phase::kTest &&
      armed.generation != state.slow_warned_generation) {
    const int64_t mark = armed.start_ns + slow_ns;
    if (now_ns >= mark) {
      d.action = Action::kWarnSlow;
      d.wake_ns = now_ns;
      return d;
    }
    d.wake_ns = std::min(d.wake_ns, mark);
  }
  if (d.wake_ns == INT64_MAX) d.wake_ns = now_ns + idle_ns;
  return d;
}

Decision DecideNext(const ArmedPhase& armed, int64_t now_ns, int64_t idle_ns,
                    uint64_t already_fired_generation) {
  WatchState state;
  state.fired_generation = already_fired_generation;
  return DecideNext(armed, now_ns, idle_ns, state, 0, INT64_MAX);
}

Watchdog::Watchdog(DeadlineBoard* board, int64_t idle_ns, StallHandler on_stall,
                   ThreadStartHook on_start, SlowHandler on_slow,
                   TotalLimit total)
    : board_(board),
      idle_ns_(idle_ns),
      on_stall_(on_stall),
      on_start_(on_start),
      on_slow_(on_slow),
      total_(total) {}

Watchdog::~Watchdog() { Stop(); }

void Watchdog::Start() {
  thread_ = std::thread([this] { Run(); });
  // Polled, not waited on with a lock: Run() takes none. A thread start
  // takes tens of microseconds, more on a loaded machine.
  while (!started_.load(std::memory_order_acquire)) {
    const struct timespec pause = {0, 20000};
    nanosleep(&pause, nullptr);
  }
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
  started_.store(true, std::memory_order_release);
  WatchState state;
  bool request_handled = false;
  while (!stop_.load()) {
    if (on_request_ != nullptr && !request_handled &&
        board_->report_requested()) {
      request_handled = true;  // the handler normally never returns
      // Freeze(), not Read(): bounded even if the signal interrupted the
      // test thread in the middle of publishing a phase.
      on_request_(board_->Freeze(), MonotonicNowNs());
      continue;
    }
    const ArmedPhase armed = board_->Read();
    const int64_t now = MonotonicNowNs();
    const Decision d = DecideNext(armed, now, idle_ns_, state,
                                  board_->slow_ns(), total_.deadline_ns());
    switch (d.action) {
      case Action::kFire:
        state.fired_generation = armed.generation;
        on_stall_(Action::kFire, armed, total_, now);  // aborts, normally
        continue;
      case Action::kFireTotal:
        state.total_fired = true;
        on_stall_(Action::kFireTotal, armed, total_, now);
        continue;
      case Action::kWarnSlow:
        state.slow_warned_generation = armed.generation;
        if (on_slow_ != nullptr) on_slow_(armed, now);
        continue;
      case Action::kSleep:
        break;
    }
    const uint32_t seen = board_->PlanWake(d.wake_ns);
    // Re-check after announcing the wake-up: an Arm() that raced with us is
    // either seen here or saw our plan and kicked the futex word.
    if (board_->Generation() != armed.generation) continue;
    if (on_request_ != nullptr && !request_handled &&
        board_->report_requested()) {
      continue;
    }
    if (stop_.load()) break;
    board_->WaitUntil(seen, d.wake_ns);
  }
}

}  // namespace gtest_watchdog_internal
