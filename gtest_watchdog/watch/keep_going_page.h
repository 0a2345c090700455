// File: gtest_watchdog/watch/keep_going_page.h
//
// Keep going (docs/keep-going.md): the page a test child shares with the
// supervisor that started it. A memfd mapped MAP_SHARED by both, so whatever
// the child wrote is still there however it died (SIGKILL included). The
// child writes it with plain atomic stores, as it writes its deadline board
// (which lives here too): no system call per test, no allocation, no lock.
// The supervisor reads it while the child runs (its second watchdog) and
// after the child ended (which test was running, the stall path's message).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

// Where the child is, as its listener last saw it.
enum class ChildWhere : int32_t {
  kStarting = 0,          // before the first GoogleTest event
  kEnvironmentSetUp = 1,  // the global environments' SetUp
  kSuiteSetUp = 2,        // suite_id's SetUpTestSuite (no test started yet)
  kTest = 3,              // test_id, from its fixture to its TearDown
  kAfterTest = 4,  // suite_id, after a test: the next, or TearDownTestSuite
  kEnvironmentTearDown = 5,
  kFinished = 6,  // the iteration ended
};

struct KeepGoingPage {
  static constexpr uint32_t kMagic = 0x6b67706b;  // "kgpk"
  static constexpr size_t kMessageBytes = size_t{64} * 1024;

  uint32_t magic = kMagic;
  std::atomic<int32_t> where{0};      // ChildWhere
  std::atomic<int32_t> test_id{-1};   // registration index of the test
  std::atomic<int32_t> suite_id{-1};  // registration index of the suite
  std::atomic<int32_t> tests_started{0};
  std::atomic<int64_t> since_ns{0};  // monotonic: when `where` began
  std::atomic<pid_t> test_tid{0};    // the thread that runs the tests
  // The stall path's failure message (headline, verdict, stack): its
  // length is stored last, once the bytes are in.
  std::atomic<uint32_t> message_bytes{0};
  // 1: the message is a stall's; 2: a crash's or a signal's.
  std::atomic<int32_t> message_kind{0};
  DeadlineBoard board;  // the child's own, read by the supervisor
  char message[kMessageBytes] = {};
};

// The mapped page of a test child, or null in any other process.
// Signal-safe.
KeepGoingPage* ChildPage();
// Start-up only: set once, in a test child.
void SetChildPage(KeepGoingPage* page);

// Records where the child is. Signal-safe: plain stores.
void PageEnter(KeepGoingPage* page, ChildWhere where, int32_t suite_id,
               int32_t test_id, int64_t now_ns);

// Copies the stall path's failure message into the page (cut to fit);
// `kind` as message_kind. Signal-safe.
void PageKeepMessage(KeepGoingPage* page, const char* text, size_t len,
                     int32_t kind);

}  // namespace gtest_watchdog_internal
