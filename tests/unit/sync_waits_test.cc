// File: tests/unit/sync_waits_test.cc
//
// Tests for Abseil's and C++20's waits (gtest_watchdog/diagnose/
// sync_waits.h): the primitive named from symbolized stacks as Debian's
// libabsl and GCC 12's libstdc++ give them, Abseil's objects and owners
// found in a made-up process memory laid out like Abseil 20220623, and the
// words and verdict such waits get.
#include "gtest_watchdog/diagnose/sync_waits.h"

#include <sys/syscall.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/diagnose/lock_analysis.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/verdict.h"
#include "model_builders.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint64_t kWaitPrivate = 0x80;
constexpr uint64_t kWaitBitsetPrivate = 0x89;
constexpr uint64_t kFutex = 0x7000'0040;  // the thread's own word

bool Ours(pid_t) { return true; }

LockWait Classify(std::initializer_list<const char*> names,
                  uint64_t op = kWaitPrivate, uint64_t timeout = 0) {
  SnapshotThread t = Thread(11, "t");
  InSyscall(&t, SYS_futex, {kFutex, op, 0, timeout});
  return ClassifyWait(t, Frames(names), Ours);
}

// The same below the frames Debian's libabsl has under its API functions.
LockWait ClassifyAbseil(std::initializer_list<const char*> outer,
                        uint64_t op = kWaitPrivate, uint64_t timeout = 0) {
  std::vector<SourceFrame> frames = Frames(
      {"syscall",
       "absl::debian3::synchronization_internal::Waiter::Wait(absl::debian3::"
       "synchronization_internal::KernelTimeout)",
       "AbslInternalPerThreadSemWait_debian3",
       "absl::debian3::Mutex::Block(absl::debian3::base_internal::"
       "PerThreadSynch*)",
       "",
       "absl::debian3::Mutex::LockSlow(absl::debian3::MuHowS const*, "
       "absl::debian3::Condition const*, int)"});
  for (const SourceFrame& f : Frames(outer)) frames.push_back(f);
  SnapshotThread t = Thread(11, "t");
  InSyscall(&t, SYS_futex, {kFutex, op, 0, timeout});
  return ClassifyWait(t, frames, Ours);
}

TEST(ClassifySyncWaitTest, AbseilLockIsAMutexWhoseObjectIsNotTheFutex) {
  const LockWait w = ClassifyAbseil(
      {"absl::debian3::Mutex::Lock()",
       "absl::debian3::MutexLock::MutexLock(absl::debian3::Mutex*)", "Test()"});
  EXPECT_EQ(w.kind, WaitKind::kMutex);
  EXPECT_EQ(w.primitive, "absl::Mutex");
  EXPECT_EQ(w.lock_addr, 0u);
  EXPECT_FALSE(w.timed);
  EXPECT_FALSE(w.condition);
}

TEST(ClassifySyncWaitTest, TheOutermostAbseilFunctionNamesThePrimitive) {
  LockWait w =
      ClassifyAbseil({"absl::debian3::Mutex::LockWhen(absl::debian3::"
                      "Condition const&)",
                      "absl::debian3::Notification::WaitForNotification() "
                      "const",
                      "Test()"});
  EXPECT_EQ(w.kind, WaitKind::kEvent);
  EXPECT_EQ(w.primitive, "absl::Notification");
  w =
      ClassifyAbseil({"absl::lts_20230802::Mutex::Await(absl::lts_20230802::"
                      "Condition const&)",
                      "absl::lts_20230802::BlockingCounter::Wait()", "Test()"});
  EXPECT_EQ(w.primitive, "absl::BlockingCounter");
  EXPECT_EQ(w.kind, WaitKind::kEvent);
  w = ClassifyAbseil({"absl::Mutex::Await(absl::Condition const&)",
                      "absl::Barrier::Block()", "Test()"});
  EXPECT_EQ(w.primitive, "absl::Barrier");
  w = ClassifyAbseil(
      {"absl::Mutex::LockWhen(absl::Condition const&)", "Test()"});
  EXPECT_EQ(w.kind, WaitKind::kCondition);
  EXPECT_EQ(w.primitive, "absl::Mutex");
  EXPECT_TRUE(w.condition);
}

TEST(ClassifySyncWaitTest, TimeoutsFromTheNameOrTheFutex) {
  LockWait w =
      ClassifyAbseil({"absl::Mutex::LockWhenWithTimeout(absl::Condition "
                      "const&, absl::Duration)",
                      "Test()"});
  EXPECT_TRUE(w.timed);
  EXPECT_TRUE(w.condition);
  w = ClassifyAbseil({"absl::Mutex::Lock()", "Test()"}, kWaitBitsetPrivate,
                     0x7ffd'0000);
  EXPECT_TRUE(w.timed);
}

// CondVar::Wait reaches Abseil's wait through an unexported function: the
// stack says only "Abseil"; the memory tells the rest.
TEST(ClassifySyncWaitTest, AbseilWithoutItsApiFrameIsLeftToTheMemory) {
  const LockWait w = Classify(
      {"syscall",
       "absl::debian3::synchronization_internal::Waiter::Wait(absl::debian3::"
       "synchronization_internal::KernelTimeout)",
       "AbslInternalPerThreadSemWait_debian3", "", "Test()"});
  EXPECT_EQ(w.kind, WaitKind::kOtherFutex);
  EXPECT_EQ(w.primitive, "absl");
  EXPECT_EQ(w.lock_addr, kFutex);
}

TEST(ClassifySyncWaitTest, Cxx20WaitsAreEventsOnTheirObject) {
  LockWait w = Classify(
      {"syscall", "void std::__detail::__platform_wait<int>(int const*, int)",
       "std::__detail::__waiter_pool::_M_do_wait(int const*, int)",
       "void std::__atomic_wait_address<int, std::latch::wait() "
       "const::{lambda()#1}>(int const*, std::latch::wait() "
       "const::{lambda()#1})",
       "std::latch::wait() const", "Test()"});
  EXPECT_EQ(w.kind, WaitKind::kEvent);
  EXPECT_EQ(w.primitive, "std::latch");
  EXPECT_EQ(w.lock_addr, kFutex);
  w = Classify({"syscall",
                "void std::__detail::__platform_wait<int>(int const*, int)",
                "void std::__atomic_wait_address_bare<std::__atomic_semaphore::"
                "_M_acquire()::{lambda()#1}>(int const*, "
                "std::__atomic_semaphore::_M_acquire()::{lambda()#1})",
                "std::__atomic_semaphore::_M_acquire()",
                "std::counting_semaphore<4l>::acquire()", "Test()"});
  EXPECT_EQ(w.primitive, "std::counting_semaphore");
  w = Classify(
      {"syscall", "std::__detail::__waiter_pool::_M_do_wait(int const*, int)",
       "std::__tree_barrier<std::__empty_completion>::wait(std::__"
       "barrier_phase_t&&) const",
       "std::barrier<std::__empty_completion>::arrive_and_wait()", "Test()"});
  EXPECT_EQ(w.primitive, "std::barrier");
  EXPECT_EQ(w.lock_addr, 0u);  // a waiter pool's slot, not the barrier
  w = Classify({"syscall",
                "void std::__detail::__platform_wait<int>(int const*, int)",
                "std::__atomic_base<int>::wait(int, std::memory_order) const",
                "Test()"});
  EXPECT_EQ(w.primitive, "std::atomic::wait");
}

// GCC 16's libstdc++ (Debian sid) names them differently: __wait_impl, a
// semaphore _impl template, a barrier waiting through an atomic_ref.
TEST(ClassifySyncWaitTest, Gcc16Names) {
  LockWait w = Classify(
      {"syscall",
       "std::__detail::__wait_impl(void const*, std::__detail::__wait_args_"
       "base&)",
       "std::__atomic_wait_address_v(int const*, int, int, bool)",
       "std::__platform_semaphore_impl<false>::_M_acquire()",
       "std::counting_semaphore<4l>::acquire()", "Test()"});
  EXPECT_EQ(w.primitive, "std::counting_semaphore");
  w = Classify(
      {"syscall",
       "std::__detail::__wait_impl(void const*, std::__detail::__wait_args_"
       "base&)",
       "void std::__atomic_impl::wait<std::__barrier_phase_t>(std::__barrier_"
       "phase_t const*, std::remove_volatile<std::__barrier_phase_t>::type, "
       "std::memory_order)",
       "std::__atomic_ref_base<std::__barrier_phase_t const>::wait(std::__"
       "barrier_phase_t, std::memory_order) const",
       "std::__tree_barrier<std::__empty_completion>::wait(std::__barrier_"
       "phase_t&&) const",
       "std::barrier<std::__empty_completion>::arrive_and_wait()", "Test()"});
  EXPECT_EQ(w.primitive, "std::barrier");
}

TEST(ClassifySyncWaitTest, OtherFutexWaitsAreNotClaimed) {
  EXPECT_EQ(Classify({"syscall", "MyEvent::Wait()", "Test()"}).kind,
            WaitKind::kOtherFutex);
  EXPECT_EQ(Classify({"syscall", "MyEvent::Wait()"}).primitive, "");
  EXPECT_EQ(Classify({"__futex_abstimed_wait_common", "__pthread_cond_wait",
                      "std::condition_variable::wait(std::unique_lock<std::"
                      "mutex>&)"})
                .kind,
            WaitKind::kCondition);
}

// ---- ResolveAbslWaits on a made-up process ----

class FakeMemory {
 public:
  void Put64(uint64_t addr, uint64_t v) { Put(addr, &v, sizeof(v)); }
  void Put32(uint64_t addr, uint32_t v) { Put(addr, &v, sizeof(v)); }
  // Makes [addr, addr + size) readable (zero).
  void Map(uint64_t addr, size_t size) {
    regions_.push_back({addr, std::vector<unsigned char>(size, 0)});
  }
  bool Read(uint64_t addr, void* out, size_t size) const {
    for (const Region& r : regions_) {
      if (addr >= r.base && addr + size <= r.base + r.bytes.size()) {
        std::memcpy(out, r.bytes.data() + (addr - r.base), size);
        return true;
      }
    }
    return false;
  }
  ReadMemoryFn Fn() const {
    return [this](uint64_t addr, void* out, size_t size) {
      return Read(addr, out, size);
    };
  }

 private:
  struct Region {
    uint64_t base;
    std::vector<unsigned char> bytes;
  };
  void Put(uint64_t addr, const void* v, size_t size) {
    for (Region& r : regions_) {
      if (addr >= r.base && addr + size <= r.base + r.bytes.size()) {
        std::memcpy(r.bytes.data() + (addr - r.base), v, size);
        return;
      }
    }
    ADD_FAILURE() << "unmapped " << addr;
  }
  std::vector<Region> regions_;
};

constexpr uint64_t kIdentity = kFutex - 0x40;
constexpr uint64_t kOwnerIdentity = 0x7000'1000;
constexpr uint64_t kWaitp = 0x7ffd'1000;  // on the waiter's stack
constexpr uint64_t kWaiterTp = 0x7100'0000;
constexpr uint64_t kOwnerTp = 0x7200'0000;
constexpr uint64_t kSlot = 0x318;  // the pthread_setspecific slot
constexpr uint64_t kHeldList = 0x7300'0000;
constexpr uint64_t kMutex = 0x5555'0100;

// Thread 11 waits on its identity's futex; thread 12 holds kMutex.
class AbslResolveTest : public ::testing::Test {
 protected:
  AbslResolveTest() {
    for (uint64_t a : {kIdentity, kOwnerIdentity}) mem_.Map(a, 0x100);
    mem_.Map(kWaitp - 2048, 4096);
    mem_.Map(kWaiterTp, 0x400);  // its stack mapping ends soon after
    mem_.Map(kOwnerTp, 4096);
    mem_.Map(kHeldList, 0x400);
    mem_.Map(0x5555'0000, 0x1000);
    mem_.Put64(kIdentity + 32, kWaitp);
    mem_.Put64(kWaitp + 32, kIdentity);  // waitp->thread
    mem_.Put64(kWaiterTp + kSlot, kIdentity);
    mem_.Put64(kOwnerTp + kSlot, kOwnerIdentity);
    mem_.Put64(kOwnerIdentity + 56, kHeldList);
    mem_.Put32(kHeldList, 1);
    mem_.Put64(kHeldList + 8, kMutex);
    mem_.Put32(kHeldList + 16, 1);
    snap_.threads = {Thread(11, "waiter"), Thread(12, "owner")};
    InFutex(&snap_.threads[0], kFutex, kWaitPrivate);
    snap_.threads[0].thread_pointer = kWaiterTp;
    snap_.threads[1].thread_pointer = kOwnerTp;
    model_ = ModelOf(snap_);
  }
  // kMutex's queue holds just the waiter.
  void Queue(uint64_t object, uint64_t flags) {
    mem_.Put64(object, kIdentity | flags);
    mem_.Put64(kIdentity, kIdentity);  // next: itself
  }
  LockWait& Wait() { return model_.threads[0].wait; }
  void Resolve() { ResolveAbslWaits(&model_.threads, mem_.Fn(), Ours); }

  FakeMemory mem_;
  Snapshot snap_;
  ReportModel model_;
};

TEST_F(AbslResolveTest, PlainLockFindsTheMutexAndItsOwner) {
  Queue(kMutex, 0x0c);  // kMuWriter | kMuWait
  Wait() = LockWait{WaitKind::kMutex, 0, 0, "", "absl::Mutex"};
  Resolve();
  EXPECT_EQ(Wait().kind, WaitKind::kMutex);
  EXPECT_EQ(Wait().lock_addr, kMutex);
  EXPECT_EQ(Wait().owner, 12);
}

TEST_F(AbslResolveTest, NoOwnerWithoutAbseilsBookkeeping) {
  Queue(kMutex, 0x0c);
  mem_.Put32(kHeldList, 0);          // a release build keeps no list
  mem_.Put64(kWaitp - 200, kMutex);  // `this`, saved on the stack
  Wait() = LockWait{WaitKind::kMutex, 0, 0, "", "absl::Mutex"};
  Resolve();
  EXPECT_EQ(Wait().lock_addr, kMutex);
  EXPECT_EQ(Wait().owner, 0);
}

TEST_F(AbslResolveTest, NotificationFromItsCondition) {
  constexpr uint64_t kNotification = 0x5555'0200;
  constexpr uint64_t kCondition = kWaitp - 64;
  Queue(kNotification, 0x04);                      // kMuWait
  mem_.Put64(kWaitp + 8, kCondition);              // waitp->cond
  mem_.Put64(kCondition + 32, kNotification + 8);  // &notified_yet_
  Wait() = LockWait{WaitKind::kEvent, 0, 0, "", "absl::Notification"};
  Resolve();
  EXPECT_EQ(Wait().kind, WaitKind::kEvent);
  EXPECT_EQ(Wait().lock_addr, kNotification);
  EXPECT_EQ(Wait().owner, 0);
}

TEST_F(AbslResolveTest, CondVarFromItsQueue) {
  constexpr uint64_t kCondVar = 0x5555'0300;
  Queue(kCondVar, 0);
  mem_.Put64(kWaitp + 24, kMutex);     // waitp->cvmu
  mem_.Put64(kWaitp - 512, kCondVar);  // `this`, saved on the stack
  Wait() = LockWait{WaitKind::kOtherFutex, kFutex, 0, "", "absl"};
  Resolve();
  EXPECT_EQ(Wait().kind, WaitKind::kCondition);
  EXPECT_EQ(Wait().primitive, "absl::CondVar");
  EXPECT_EQ(Wait().lock_addr, kCondVar);
}

TEST_F(AbslResolveTest, AnotherLayoutLeavesTheStacksWord) {
  Queue(kMutex, 0x0c);
  mem_.Put64(kWaitp + 32, 0);  // waitp->thread does not point back
  Wait() = LockWait{WaitKind::kMutex, 0, 0, "", "absl::Mutex"};
  Resolve();
  EXPECT_EQ(Wait().lock_addr, 0u);
  EXPECT_EQ(Wait().owner, 0);
  EXPECT_EQ(LockText(Wait()), "an absl::Mutex");
}

// ---- words and verdict ----

TEST(SyncWaitTextTest, EventsSayWhatTheyStillWaitFor) {
  Snapshot snap;
  snap.kind = "timeout";
  snap.pid = 1;
  snap.test_tid = 1;
  snap.threads = {Thread(1, "main")};
  InFutex(&snap.threads[0], kFutex, kWaitPrivate);
  snap.threads[0].cpu_ns = 0;
  snap.threads[0].wakeups = 0;
  snap.threads[0].interval_ns = 250'000'000;
  ReportModel m = ModelOf(snap);
  m.threads[0].call.kind = BlockKind::kFutex;
  m.threads[0].frames = {Fn("syscall"), Fn("Code()", "/src/code.cc", 7)};
  m.threads[0].wait =
      LockWait{WaitKind::kEvent, 0x5000, 0, "g_ready", "absl::Notification"};
  EXPECT_EQ(WaitText(m, m.threads[0]),
            "waiting on absl::Notification g_ready (0x5000), which no thread "
            "has notified");
  EXPECT_STREQ(WaitKindId(WaitKind::kEvent), "event");
  Verdict v = DecideVerdict(m);
  EXPECT_EQ(v.kind, VerdictKind::kNotify);
  EXPECT_EQ(v.text,
            "waiting for a notify: thread 1 \"main\" waits on "
            "absl::Notification g_ready (0x5000), which no thread has "
            "notified, in Code() at code.cc:7, and no other thread is running "
            "or waiting on anything outside the process: nothing may ever "
            "notify it");
  m.threads[0].wait = LockWait{WaitKind::kCondition, 0x6000, 0,   "g_mu",
                               "absl::Mutex",        true,   true};
  EXPECT_THAT(WaitText(m, m.threads[0]),
              StartsWith("waiting for a Condition on absl::Mutex g_mu "
                         "(0x6000) (LockWhen/Await"));
  v = DecideVerdict(m);
  EXPECT_THAT(v.text, HasSubstr(" waits for a Condition on absl::Mutex g_mu "
                                "(0x6000), with a timeout, in Code()"));
  m.threads[0].wait = LockWait{WaitKind::kEvent, 0, 0, "", "std::barrier"};
  EXPECT_EQ(WaitText(m, m.threads[0]),
            "waiting on a std::barrier, which not all of its threads have "
            "reached");
}

}  // namespace
}  // namespace gtest_watchdog_internal
