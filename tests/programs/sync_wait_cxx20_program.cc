// File: tests/programs/sync_wait_cxx20_program.cc
//
// Stalls on C++20's waits, which libstdc++ implements on futexes without
// an owner: a std::latch never counted down, a std::barrier missing a
// party, a std::counting_semaphore never released, and std::atomic<int>::
// wait never notified. Compiled as C++20. Run by
// tests/integration/sync_wait_test with --gtest_filter=Cxx20Wait.<Name>
// --gtest_watchdog_timeout=1s. `// @block:NAME` marks where a thread blocks.
#include <atomic>
#include <barrier>
#include <cstdio>
#include <latch>
#include <semaphore>

#include "gtest/gtest.h"

namespace {

std::latch g_workers_done(1);

TEST(Cxx20Wait, LatchNeverCountedDown) {
  g_workers_done.wait();  // @block:latch
  // Not a tail call: the test's frame stays on the stack.
  EXPECT_TRUE(g_workers_done.try_wait());
}

std::barrier g_round(2);

TEST(Cxx20Wait, BarrierMissingAParty) {
  g_round.arrive_and_wait();  // @block:barrier
  printf("passed the barrier\n");
}

std::counting_semaphore<4> g_slots(0);

TEST(Cxx20Wait, SemaphoreNeverReleased) {
  g_slots.acquire();  // @block:semaphore
  g_slots.release();
}

std::atomic<int> g_generation{0};

TEST(Cxx20Wait, AtomicWaitNeverNotified) {
  g_generation.wait(0);  // @block:atomic
  EXPECT_NE(g_generation.load(), 0);
}

}  // namespace
