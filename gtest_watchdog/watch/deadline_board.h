// File: gtest_watchdog/watch/deadline_board.h
//
// The one place where the test thread tells the watchdog thread what is
// running and until when. Arming and disarming are a handful of atomic
// stores: no system call, no allocation, no lock, so a watched test costs
// the same as an unwatched one. The watchdog thread reads a consistent
// snapshot with a sequence lock.
//
// Waking the watchdog: it sleeps until the earliest deadline it knows of, or
// for one shortest-possible limit when idle. A new deadline can only be
// earlier than that planned wake-up when a phase has a shorter limit than
// the one before; only then does Arm() pay for a futex wake.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "gtest_watchdog/watch/phase.h"

namespace gtest_watchdog_internal {

struct ArmedPhase {
  uint64_t generation = 0;  // changes on every Arm/Disarm
  Phase phase = Phase::kNone;
  const void* subject = nullptr;  // testing::TestInfo* or TestSuite*
  int64_t start_ns = 0;           // monotonic clock
  int64_t limit_ns = 0;           // 0: running, but no limit (unwatched)
  const char* origin = "";        // where the limit came from, for reports
  // Signal-safe.
  int64_t deadline_ns() const { return start_ns + limit_ns; }
  bool running() const { return phase != Phase::kNone; }
  bool armed() const { return running() && limit_ns > 0; }
};

class DeadlineBoard {
 public:
  // Test thread only (single writer). Lock-free, allocation-free; makes a
  // system call only when the phase's first event (its deadline, or its
  // slow-test mark) is earlier than the watchdog's planned wake-up. A
  // limit_ns of 0 means "running, no limit". `origin` must be a string that
  // lives as long as the process. Signal-safe.
  void Arm(Phase phase, const void* subject, int64_t now_ns, int64_t limit_ns,
           const char* origin = "");
  void Disarm();
  // The slow-test mark for kTest phases (0 = none). Start-up only: set
  // before tests run.
  void set_slow_ns(int64_t slow_ns) { slow_ns_ = slow_ns; }
  // Signal-safe.
  int64_t slow_ns() const { return slow_ns_; }
  // The thread that runs the tests (its TID), recorded by the listener once
  // per program; 0 until then. Signal-safe: any thread.
  void set_test_thread(pid_t tid) {
    test_tid_.store(tid, std::memory_order_release);
  }
  pid_t test_thread() const {
    return test_tid_.load(std::memory_order_acquire);
  }

  // Any thread. Lock-free; returns a consistent snapshot. Signal-safe.
  // Once the board is frozen it gives up waiting for a writer that never
  // finishes (interrupted by a signal mid-publish) and returns the fields
  // as they are.
  ArmedPhase Read() const;
  // The current generation, read with sequential consistency: the watchdog's
  // re-check after PlanWake() (Dekker-style with Arm's read of the plan).
  // Signal-safe.
  uint64_t Generation() const { return seq_.load(std::memory_order_seq_cst); }

  // Watchdog thread: announce when it will next look at the board, then
  // sleep until then unless Arm() wakes it. Returns the value to pass to the
  // wait, read *before* the caller re-checks the board (no lost wake-ups).
  // Signal-safe.
  uint32_t PlanWake(int64_t wake_ns);
  // Futex wait on the wake word, absolute monotonic deadline. Signal-safe.
  void WaitUntil(uint32_t seen, int64_t wake_ns);
  // Wakes the watchdog now (shutdown, tests). Signal-safe.
  void Kick();

  // A report is being written: the board must stay as it is, so the report
  // and GoogleTest's output describe the same phase, and the thread running
  // tests must not run on to the end of the program meanwhile. Every later
  // Arm()/Disarm() parks its caller for good (the process is about to end).
  // Returns the board as frozen. Signal-safe: any thread.
  ArmedPhase Freeze();
  bool frozen() const { return frozen_.load(std::memory_order_acquire); }

  // A signal handler on some thread asks the watchdog thread for a report
  // (crash, SIGQUIT): sets the request and wakes it. Signal-safe.
  void RequestReport();
  bool report_requested() const {
    return report_requested_.load(std::memory_order_seq_cst);
  }

 private:
  // Signal-safe.
  void Publish(Phase phase, const void* subject, int64_t start_ns,
               int64_t limit_ns, const char* origin);
  // The fields as they are; no phase at all while a publish is half done.
  // Signal-safe.
  ArmedPhase RawFields() const;

  std::atomic<uint64_t> seq_{0};  // odd while the writer is publishing
  std::atomic<int> phase_{0};
  std::atomic<const void*> subject_{nullptr};
  std::atomic<int64_t> start_ns_{0};
  std::atomic<int64_t> limit_ns_{0};
  std::atomic<const char*> origin_{""};
  int64_t slow_ns_ = 0;
  std::atomic<pid_t> test_tid_{0};
  std::atomic<int64_t> planned_wake_ns_{INT64_MAX};
  std::atomic<uint32_t> wake_word_{0};
  std::atomic<bool> frozen_{false};
  std::atomic<bool> report_requested_{false};
};

// The board of the installed watchdog, or null while it is off.
// Signal-safe.
DeadlineBoard* InstalledBoard();
// Start-up only: set once.
void SetInstalledBoard(DeadlineBoard* board);

// Blocks the calling thread until the process ends (a futex wait on a word
// nobody changes). Signal-safe.
[[noreturn]] void ParkForever();

}  // namespace gtest_watchdog_internal
