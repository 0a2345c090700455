// File: gtest_watchdog/watch/watchdog.h
//
// The one long-lived watchdog thread. It sleeps until the deadline on the
// board (or, when nothing is armed, for one shortest limit), and when a
// deadline has passed and the phase is still the same one, calls the stall
// handler. The decision is a pure function (`DecideNext`) so the deadline
// arithmetic is unit-tested with a fake clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

struct Decision {
  bool fire = false;
  int64_t wake_ns = 0;  // when to look again (absolute, monotonic)
};

// Pure. `idle_ns`: how long to sleep when nothing is armed; an Arm() whose
// deadline is earlier than the planned wake-up wakes the thread itself.
Decision DecideNext(const ArmedPhase& armed, int64_t now_ns, int64_t idle_ns,
                    uint64_t already_fired_generation);

class Watchdog {
 public:
  using StallHandler = void (*)(const ArmedPhase& armed, int64_t now_ns);
  using ThreadStartHook = void (*)();

  Watchdog(DeadlineBoard* board, int64_t idle_ns, StallHandler on_stall,
           ThreadStartHook on_start);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Start();
  // Stops and joins the thread (tests; the installed watchdog is never
  // stopped, it dies with the process).
  void Stop();

 private:
  void Run();

  DeadlineBoard* board_;
  int64_t idle_ns_;
  StallHandler on_stall_;
  ThreadStartHook on_start_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gtest_watchdog_internal
