// File: gtest_watchdog/watch/watchdog.h
//
// The one long-lived watchdog thread. It sleeps until the next event it
// knows of — the running phase's deadline, the running test's slow-test
// mark, the whole run's deadline — or, when nothing is due, for one shortest
// limit; Arm() wakes it early only when a phase's first event comes sooner.
// What to do next is a pure function (`DecideNext`) so the arithmetic is
// unit-tested with a fake clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

enum class Action {
  kSleep,      // nothing due: sleep until wake_ns
  kFire,       // the running phase passed its limit
  kFireTotal,  // the whole run passed its limit
  kWarnSlow,   // the running test passed the slow-test mark
};

struct Decision {
  Action action = Action::kSleep;
  int64_t wake_ns = 0;  // when to look again (absolute, monotonic)
};

// What the watchdog has already acted on, so nothing is reported twice.
struct WatchState {
  uint64_t fired_generation = ~uint64_t{0};
  uint64_t slow_warned_generation = ~uint64_t{0};
  bool total_fired = false;
};

// Signal-safe: pure. `slow_ns` 0 = no slow mark; `total_deadline_ns` INT64_MAX
// = none.
Decision DecideNext(const ArmedPhase& armed, int64_t now_ns, int64_t idle_ns,
                    const WatchState& state, int64_t slow_ns,
                    int64_t total_deadline_ns);
// The phase deadline alone. Signal-safe.
Decision DecideNext(const ArmedPhase& armed, int64_t now_ns, int64_t idle_ns,
                    uint64_t already_fired_generation);

// The whole-run limit, if any.
struct TotalLimit {
  int64_t start_ns = 0;
  int64_t limit_ns = 0;  // 0 = none
  const char* origin = "";
  // Signal-safe.
  int64_t deadline_ns() const {
    return limit_ns > 0 ? start_ns + limit_ns : INT64_MAX;
  }
};

class Watchdog {
 public:
  // Called on the watchdog thread. For kFireTotal, `armed` is what was
  // running. A handler that returns (a debugger is attached) lets the
  // watchdog go on watching.
  using StallHandler = void (*)(Action kind, const ArmedPhase& armed,
                                const TotalLimit& total, int64_t now_ns);
  using SlowHandler = void (*)(const ArmedPhase& armed, int64_t now_ns);
  using ThreadStartHook = void (*)();
  // A report a signal handler asked for (DeadlineBoard::RequestReport);
  // `armed` is what was running. Normally never returns.
  using RequestHandler = void (*)(const ArmedPhase& armed, int64_t now_ns);

  Watchdog(DeadlineBoard* board, int64_t idle_ns, StallHandler on_stall,
           ThreadStartHook on_start, SlowHandler on_slow = nullptr,
           TotalLimit total = {});
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Start-up only: before Start().
  void set_request_handler(RequestHandler handler) { on_request_ = handler; }

  // Starts the watchdog thread and returns once it runs and its start hook
  // has run: a first test that crashes at once, or uses up descriptors or
  // memory, never meets a watchdog not yet attached (the crash handlers
  // need its thread id; the dead-man timer needs a timer). Start-up only.
  void Start();
  // Stops and joins the thread (tests; the installed watchdog is never
  // stopped, it dies with the process). Not on the stall path.
  void Stop();

 private:
  // The watchdog thread's loop: futex waits on the board, then the handlers.
  // Signal-safe: no allocation, no lock of its own.
  void Run();

  DeadlineBoard* board_;
  int64_t idle_ns_;
  StallHandler on_stall_;
  ThreadStartHook on_start_;
  SlowHandler on_slow_;
  RequestHandler on_request_ = nullptr;
  TotalLimit total_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};  // the start hook has run
  std::thread thread_;
};

}  // namespace gtest_watchdog_internal
