// Tests for the futex wait classification and deadlock cycles
// (gtest_watchdog/diagnose/lock_analysis.h): hand-made snapshots laid out like
// glibc's locks, and real locks held and waited for by real threads.

#include "gtest_watchdog/diagnose/lock_analysis.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <initializer_list>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "gtest_watchdog/dump/memory_probe.h"
#include "gtest_watchdog/dump/proc_threads.h"
#include "model_builders.h"

namespace gtest_watchdog_internal {
namespace {

constexpr uint64_t kWaitPrivate = 0x80;         // FUTEX_WAIT | PRIVATE
constexpr uint64_t kWaitBitsetPrivate = 0x189;  // + CLOCK_REALTIME
constexpr uint64_t kWaitBitsetShared = 0x9;     // pthread_join's
constexpr uint64_t kLockPiPrivate = 0x86;       // FUTEX_LOCK_PI | PRIVATE
constexpr uint64_t kLockPi2Private = 0x8d;      // FUTEX_LOCK_PI2 | PRIVATE
constexpr uint64_t kWakePrivate = 0x81;         // FUTEX_WAKE | PRIVATE
constexpr uint64_t kLock = 0x7f00'0000'1000;    // a lock's address
constexpr pid_t kOwner = 4242;
constexpr pid_t kWaiter = 4243;

pid_t GetTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

uint64_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

bool Ours(pid_t tid) { return tid == kOwner || tid == kWaiter; }
bool NotOurs(pid_t) { return false; }

// A thread in futex(uaddr, op, expected) whose window of memory, as the
// stalled process copies it, is [uaddr - 16, uaddr + 48), all zero until
// Set32 writes into it.
struct FutexThread {
  SnapshotThread t;

  FutexThread(uint64_t uaddr, uint64_t op, uint64_t expected) {
    t.tid = kWaiter;
    InSyscall(&t, kSyscallFutex, {uaddr, op, expected});
    t.futex_base = uaddr - kFutexWindowBefore;
    t.futex_bytes.assign(kFutexWindowSize, 0);
  }
  FutexThread& Set32(uint64_t addr, uint32_t value) {
    std::memcpy(t.futex_bytes.data() + (addr - t.futex_base), &value,
                sizeof(value));
    return *this;
  }
  LockWait Classify(std::initializer_list<const char*> names,
                    bool (*is_ours)(pid_t) = Ours) const {
    return ClassifyWait(t, Frames(names), is_ours);
  }
};

// A contended normal mutex at kLock held by `owner`: __lock 2, __owner,
// __nusers 1, __kind `kind`.
FutexThread MutexWait(pid_t owner, uint32_t kind = 0) {
  FutexThread f(kLock, kWaitPrivate, 2);
  f.Set32(kLock, 2).Set32(kLock + 8, owner).Set32(kLock + 12, 1);
  f.Set32(kLock + 16, kind);
  return f;
}

// ---- ClassifyWait: what is not a wait ----

TEST(ClassifyWaitTest, NotInAFutexIsNone) {
  FutexThread f = MutexWait(kOwner);
  f.t.syscall_nr = 7;  // poll
  EXPECT_EQ(f.Classify({"__lll_lock_wait"}).kind, WaitKind::kNone);
  f.t.syscall_nr = kSyscallRunning;
  EXPECT_EQ(f.Classify({"__lll_lock_wait"}).kind, WaitKind::kNone);
  f.t.syscall_nr = kSyscallUnknown;
  EXPECT_EQ(f.Classify({"__lll_lock_wait"}).kind, WaitKind::kNone);
}

TEST(ClassifyWaitTest, FutexWakeWaitsForNothing) {
  FutexThread f = MutexWait(kOwner);
  f.t.syscall_args[1] = kWakePrivate;
  const LockWait w = f.Classify({"__lll_lock_wake", "___pthread_mutex_unlock"});
  EXPECT_EQ(w.kind, WaitKind::kNone);
  EXPECT_EQ(w.lock_addr, 0u);
}

// ---- mutexes ----

TEST(ClassifyWaitTest, StdMutexOwnerFromOwnerField) {
  const LockWait w =
      MutexWait(kOwner).Classify({"__lll_lock_wait", "___pthread_mutex_lock",
                                  "std::mutex::lock()", "Worker::Run()"});
  EXPECT_EQ(w.kind, WaitKind::kMutex);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, kOwner);
  EXPECT_EQ(w.lock_name, "");
}

TEST(ClassifyWaitTest, MutexFunctionNamesInTheirManyForms) {
  for (const char* name :
       {"__lll_lock_wait", "__GI___lll_lock_wait", "pthread_mutex_lock",
        "___pthread_mutex_lock", "pthread_mutex_lock@@GLIBC_2.2.5",
        "__pthread_mutex_lock_full", "__pthread_mutex_lock_full.constprop.0",
        "pthread_mutex_timedlock", "pthread_mutex_clocklock",
        "__pthread_mutex_clocklock_common", "__lll_clocklock_wait",
        "__pthread_mutex_cond_lock", "std::mutex::lock()",
        "std::recursive_mutex::lock()",
        "bool std::timed_mutex::try_lock_for<long, std::ratio<1l, 1000l> >("
        "std::chrono::duration<long, std::ratio<1l, 1000l> > const&)",
        "std::recursive_timed_mutex::lock()",
        "__gthread_mutex_lock(pthread_mutex_t*)"}) {
    SCOPED_TRACE(name);
    for (uint64_t op : {kWaitPrivate, kWaitBitsetPrivate}) {
      FutexThread f = MutexWait(kOwner);
      f.t.syscall_args[1] = op;
      const LockWait w = f.Classify({name});
      EXPECT_EQ(w.kind, WaitKind::kMutex);
      EXPECT_EQ(w.owner, kOwner);
    }
  }
}

TEST(ClassifyWaitTest, MutexOwnerMustBeOurThread) {
  const LockWait w = MutexWait(kOwner).Classify({"__lll_lock_wait"}, NotOurs);
  EXPECT_EQ(w.kind, WaitKind::kMutex);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, 0);
}

TEST(ClassifyWaitTest, MutexOwnerNeverReadOutsideTheBytes) {
  FutexThread f = MutexWait(kOwner);
  f.t.futex_bytes.resize(kFutexWindowBefore + 11);  // __owner cut short
  EXPECT_EQ(f.Classify({"__lll_lock_wait"}).owner, 0);
  f.t.futex_bytes.clear();
  EXPECT_EQ(f.Classify({"__lll_lock_wait"}).owner, 0);
  f = MutexWait(kOwner);
  f.t.futex_base = kLock + 9;  // window starts inside __owner
  const LockWait w = f.Classify({"__lll_lock_wait"});
  EXPECT_EQ(w.kind, WaitKind::kMutex);
  EXPECT_EQ(w.owner, 0);
}

TEST(ClassifyWaitTest, MutexKindsAndGarbage) {
  // Recursive, error-checking, robust, process-shared: owner still read.
  for (uint32_t kind : {1u, 2u, 3u, 16u, 128u, 512u | 1u}) {
    EXPECT_EQ(MutexWait(kOwner, kind).Classify({"__lll_lock_wait"}).owner,
              kOwner)
        << kind;
  }
  // Destroyed (__kind -1) or not a mutex at all: no owner.
  for (uint32_t kind : {0xffffffffu, 0x1000u}) {
    const LockWait w = MutexWait(kOwner, kind).Classify({"__lll_lock_wait"});
    EXPECT_EQ(w.kind, WaitKind::kMutex);
    EXPECT_EQ(w.owner, 0) << kind;
  }
}

TEST(ClassifyWaitTest, PiMutexOwnerFromFutexWord) {
  for (uint64_t op : {kLockPiPrivate, kLockPi2Private}) {
    FutexThread f(kLock, op, 0);
    // FUTEX_WAITERS set; __owner left 0 to show the word is what counts.
    f.Set32(kLock, 0x80000000u | kOwner).Set32(kLock + 16, 32);
    // The op alone says PI mutex, even without a stack.
    const LockWait w = f.Classify({});
    EXPECT_EQ(w.kind, WaitKind::kMutex);
    EXPECT_EQ(w.lock_addr, kLock);
    EXPECT_EQ(w.owner, kOwner);
  }
}

TEST(ClassifyWaitTest, GlibcInternalLockIsOtherFutex) {
  const LockWait w = MutexWait(kOwner).Classify(
      {"__lll_lock_wait_private", "_IO_flockfile", "std::mutex::lock()"});
  EXPECT_EQ(w.kind, WaitKind::kOtherFutex);
  EXPECT_EQ(w.owner, 0);
}

// ---- condition variables ----

TEST(ClassifyWaitTest, ConditionVariableOwnsNothing) {
  for (const char* name :
       {"___pthread_cond_wait", "__pthread_cond_wait_common",
        "pthread_cond_timedwait@@GLIBC_2.3.2", "pthread_cond_clockwait",
        "std::condition_variable::wait(std::unique_lock<std::mutex>&)",
        "void std::_V2::condition_variable_any::wait<std::unique_lock<"
        "std::mutex> >(std::unique_lock<std::mutex>&)"}) {
    SCOPED_TRACE(name);
    // Bytes that would name an owner if misread as a mutex.
    FutexThread f(kLock + 8, kWaitBitsetPrivate, 0);
    f.Set32(kLock + 16, kOwner);
    const LockWait w = f.Classify({"__futex_abstimed_wait_common", name});
    EXPECT_EQ(w.kind, WaitKind::kCondition);
    EXPECT_EQ(w.lock_addr, kLock + 8);
    EXPECT_EQ(w.owner, 0);
  }
}

TEST(ClassifyWaitTest, ConditionWaitReacquiringItsMutexWaitsForTheMutex) {
  const LockWait w = MutexWait(kOwner).Classify(
      {"__lll_lock_wait", "__pthread_mutex_cond_lock",
       "__pthread_cond_wait_common", "___pthread_cond_wait",
       "std::condition_variable::wait(std::unique_lock<std::mutex>&)"});
  EXPECT_EQ(w.kind, WaitKind::kMutex);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, kOwner);
}

// ---- joins, other futexes ----

TEST(ClassifyWaitTest, JoinNamesTheJoinedThread) {
  FutexThread f(kLock, kWaitBitsetShared, kOwner);
  f.Set32(kLock, kOwner);
  LockWait w = f.Classify({"__futex_abstimed_wait_common",
                           "__pthread_clockjoin_ex", "std::thread::join()"});
  EXPECT_EQ(w.kind, WaitKind::kJoin);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, kOwner);
  // The word no longer holds the expected TID: the thread is exiting.
  f.Set32(kLock, 0);
  w = f.Classify({"pthread_join"});
  EXPECT_EQ(w.kind, WaitKind::kJoin);
  EXPECT_EQ(w.owner, 0);
}

// glibc 2.43 waits on a join-state word (2 here) inside the joined thread's
// struct pthread: the thread whose pthread_self() lies just below it.
TEST(ClassifyWaitTest, JoinOnAJoinStateWordNamesTheThreadItBelongsTo) {
  FutexThread f(kLock, kWaitBitsetShared, 2);
  f.Set32(kLock, 2);
  // The joined thread's pthread_self(), 1576 bytes below the word.
  const auto thread_at = [](uint64_t addr) -> pid_t {
    return addr - (kLock - 1576) < kThreadControlBlockSpan ? kOwner : 0;
  };
  LockWait w =
      ClassifyWait(f.t, Frames({"__pthread_clockjoin_ex"}), Ours, thread_at);
  EXPECT_EQ(w.kind, WaitKind::kJoin);
  EXPECT_EQ(w.owner, kOwner);
  // Not one of ours, or the waiter itself: no owner.
  w = ClassifyWait(
      f.t, Frames({"pthread_join"}), [](pid_t) { return false; }, thread_at);
  EXPECT_EQ(w.owner, 0);
  w = ClassifyWait(f.t, Frames({"pthread_join"}), Ours,
                   [](uint64_t) { return kWaiter; });
  EXPECT_EQ(w.owner, 0);
  // In a PID namespace thread 2 may be ours: the join state 2 is still not
  // a TID.
  w = ClassifyWait(
      f.t, Frames({"pthread_join"}), [](pid_t) { return true; }, thread_at);
  EXPECT_EQ(w.owner, kOwner);
}

TEST(ClassifyWaitTest, UnknownStackIsOtherFutex) {
  for (auto frames :
       {std::vector<const char*>{},
        std::vector<const char*>{"", "__futex_abstimed_wait_common"},
        // Abseil's primitives are named: sync_waits_test.
        std::vector<const char*>{"MyLock::Lock()"}}) {
    SnapshotThread t = MutexWait(kOwner).t;
    std::vector<SourceFrame> f;
    for (const char* name : frames) f.push_back(Frames({name})[0]);
    const LockWait w = ClassifyWait(t, f, Ours);
    EXPECT_EQ(w.kind, WaitKind::kOtherFutex);
    EXPECT_EQ(w.lock_addr, kLock);
    EXPECT_EQ(w.owner, 0);
  }
}

TEST(ClassifyWaitTest, SemaphoreInsideAConditionPredicateIsOtherFutex) {
  const LockWait w = MutexWait(kOwner).Classify(
      {"do_futex_wait", "__new_sem_wait_slow64", "sem_wait", "Ready()",
       "void std::condition_variable::wait<Ready>(std::unique_lock<"
       "std::mutex>&, Ready)"});
  EXPECT_EQ(w.kind, WaitKind::kOtherFutex);
}

// ---- rwlocks (glibc 2.36 layout) ----

// A rwlock at kLock written by `writer`, sane fields around.
FutexThread RwlockWait(uint64_t futex_offset, uint64_t expected, pid_t writer) {
  FutexThread f(kLock + futex_offset, kWaitBitsetPrivate, expected);
  f.Set32(kLock + 24, writer);  // __cur_writer; __shared, pads, __flags 0
  return f;
}

TEST(ClassifyWaitTest, WriterWaitsForWriterOnWritersFutex) {
  const LockWait w = RwlockWait(12, 3, kOwner)
                         .Classify({"__futex_abstimed_wait_common",
                                    "__pthread_rwlock_wrlock_full64",
                                    "___pthread_rwlock_wrlock"});
  EXPECT_EQ(w.kind, WaitKind::kRwlockWrite);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, kOwner);
}

TEST(ClassifyWaitTest, ReaderWaitsForWriterOnWrphaseFutex) {
  for (const char* name :
       {"__pthread_rwlock_rdlock_full64", "pthread_rwlock_timedrdlock",
        "std::shared_mutex::lock_shared()",
        "std::__shared_mutex_pthread::lock_shared()",
        "__glibcxx_rwlock_rdlock(pthread_rwlock_t*)"}) {
    SCOPED_TRACE(name);
    const LockWait w = RwlockWait(8, 3, kOwner).Classify({name});
    EXPECT_EQ(w.kind, WaitKind::kRwlockRead);
    EXPECT_EQ(w.lock_addr, kLock);
    EXPECT_EQ(w.owner, kOwner);
  }
}

TEST(ClassifyWaitTest, WriterWaitsForReadersOnWrphaseFutex) {
  const LockWait w = RwlockWait(8, 2, 0).Classify(
      {"__pthread_rwlock_wrlock_full64", "std::shared_mutex::lock()"});
  EXPECT_EQ(w.kind, WaitKind::kRwlockWrite);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, 0);  // readers hold it: no single owner
}

TEST(ClassifyWaitTest, ReaderWaitsOnReadersWhenWritersArePreferred) {
  // __readers: one reader (1 << 3), WRLOCKED 2, RWAITING 4.
  FutexThread f = RwlockWait(0, (1 << 3) | 2 | 4, 0);
  const LockWait w = f.Classify({"__pthread_rwlock_rdlock_full64"});
  EXPECT_EQ(w.kind, WaitKind::kRwlockRead);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, 0);
}

TEST(ClassifyWaitTest, RwlockWriterNotOursOrInsaneLockHasNoOwner) {
  EXPECT_EQ(RwlockWait(12, 3, kOwner)
                .Classify({"pthread_rwlock_wrlock"}, NotOurs)
                .owner,
            0);
  FutexThread f = RwlockWait(12, 3, kOwner);
  f.Set32(kLock + 28, 9);  // __shared is 0 or 1
  EXPECT_EQ(f.Classify({"pthread_rwlock_wrlock"}).owner, 0);
  f = RwlockWait(12, 3, kOwner);
  f.Set32(kLock + 48, 7);  // __flags is 0, 1 or 2
  EXPECT_EQ(f.Classify({"pthread_rwlock_wrlock"}).owner, 0);
}

TEST(ClassifyWaitTest, UnexpectedRwlockValuePicksTheCandidateWithOurWriter) {
  // Waiting on __wrphase_futex (base = uaddr - 8) with a value glibc does
  // not use (neither 1|FUTEX_USED nor RWAITING): the candidates decide.
  const LockWait w =
      RwlockWait(8, 65, kOwner).Classify({"pthread_rwlock_rdlock"});
  EXPECT_EQ(w.kind, WaitKind::kRwlockRead);
  EXPECT_EQ(w.lock_addr, kLock);
  EXPECT_EQ(w.owner, kOwner);

  // The only candidate naming a thread of ours has an impossible __shared.
  FutexThread g(kLock, kWaitBitsetPrivate, 77);
  g.Set32(kLock + 12, kOwner).Set32(kLock + 16, 7);
  const LockWait v = g.Classify({"pthread_rwlock_wrlock"});
  EXPECT_EQ(v.kind, WaitKind::kRwlockWrite);
  EXPECT_EQ(v.lock_addr, kLock);
  EXPECT_EQ(v.owner, 0);
}

// ---- real locks, real waiters ----

// Waits until thread `tid` sleeps in futex(2) with arguments that satisfy
// `match`, then returns it as the snapshot would: the kernel's syscall line
// plus the memory window copied with ProbeFutexWindow. The kernel offers no
// event for "entered a system call", so this polls.
bool AwaitFutexWait(pid_t tid,
                    const std::function<bool(const uint64_t* args)>& match,
                    SnapshotThread* out) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  KernelThreadInfo k;
  for (;;) {
    k = KernelThreadInfo();
    ReadKernelThreadInfo(tid, &k);
    if (k.syscall_nr == kSyscallFutex && match(k.syscall_args)) break;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  out->tid = tid;
  out->syscall_nr = k.syscall_nr;
  std::memcpy(out->syscall_args, k.syscall_args, sizeof(k.syscall_args));
  FutexWindow w;
  ProbeFutexWindow(k.syscall_args[0], &w);
  out->futex_base = w.base;
  out->futex_bytes.assign(w.bytes, w.bytes + w.size);
  return true;
}

// A futex wait on an address inside the object at p.
template <typename T>
bool AwaitFutexWaitOn(pid_t tid, const T* p, SnapshotThread* out) {
  return AwaitFutexWait(
      tid,
      [p](const uint64_t* args) {
        return args[0] >= Addr(p) && args[0] < Addr(p) + sizeof(T);
      },
      out);
}

// Takes a lock on a thread of its own and holds it until Release() or its
// destruction.
class Holder {
 public:
  Holder(std::function<void()> lock, std::function<void()> unlock)
      : thread_([this, lock, unlock] {
          lock();
          tid_.set_value(GetTid());
          release_.get_future().wait();
          unlock();
        }) {
    tid = tid_future_.get();
  }
  ~Holder() {
    Release();
    thread_.join();
  }
  void Release() {
    if (!released_) release_.set_value();
    released_ = true;
  }
  pid_t tid = 0;

 private:
  std::promise<pid_t> tid_;
  std::future<pid_t> tid_future_ = tid_.get_future();
  std::promise<void> release_;
  bool released_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

// Runs `wait` on a thread of its own, publishing its TID first. On
// destruction calls `unblock` (which must end the wait) and joins, so a
// failed assertion cannot leave the test hanging.
class Waiter {
 public:
  Waiter(std::function<void()> wait, std::function<void()> unblock)
      : unblock_(std::move(unblock)), thread_([this, wait] {
          tid_.set_value(GetTid());
          wait();
        }) {
    tid = tid_future_.get();
  }
  ~Waiter() {
    unblock_();
    thread_.join();
  }
  pid_t tid = 0;

 private:
  std::function<void()> unblock_;
  std::promise<pid_t> tid_;
  std::future<pid_t> tid_future_ = tid_.get_future();
  std::thread thread_;  // last: starts after the members it uses
};

TEST(LockAnalysisTest, RealStdMutexOwnerIsTheHoldingThread) {
  std::mutex m;
  Holder holder([&m] { m.lock(); }, [&m] { m.unlock(); });
  auto is_holder = [&holder](pid_t tid) { return tid == holder.tid; };

  // The bytes alone, read with ReadOwnMemory, name the holder.
  FutexThread f(Addr(&m), kWaitPrivate, 2);
  unsigned char bytes[kFutexWindowSize];
  ASSERT_TRUE(ReadOwnMemory(f.t.futex_base, bytes, sizeof(bytes)));
  f.t.futex_bytes.assign(bytes, bytes + sizeof(bytes));
  LockWait w = ClassifyWait(f.t, Frames({"std::mutex::lock()"}), is_holder);
  EXPECT_EQ(w.kind, WaitKind::kMutex);
  EXPECT_EQ(w.lock_addr, Addr(&m));
  EXPECT_EQ(w.owner, holder.tid);

  // And a real waiter's futex call, as the kernel reports it.
  Waiter waiter(
      [&m] {
        m.lock();
        m.unlock();
      },
      [&holder] { holder.Release(); });
  SnapshotThread t;
  ASSERT_TRUE(AwaitFutexWaitOn(waiter.tid, &m, &t));
  EXPECT_EQ(t.syscall_args[0], Addr(&m));
  EXPECT_EQ(t.syscall_args[1] & 0x7f, 0u);  // FUTEX_WAIT
  EXPECT_EQ(t.syscall_args[2], 2u);         // "locked, with waiters"
  w = ClassifyWait(t, Frames({"__lll_lock_wait", "___pthread_mutex_lock"}),
                   is_holder);
  EXPECT_EQ(w.kind, WaitKind::kMutex);
  EXPECT_EQ(w.lock_addr, Addr(&m));
  EXPECT_EQ(w.owner, holder.tid);
}

TEST(LockAnalysisTest, RealPiMutexOwnerFromTheFutexWord) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  ASSERT_EQ(pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT), 0);
  pthread_mutex_t m;
  ASSERT_EQ(pthread_mutex_init(&m, &attr), 0);
  pthread_mutexattr_destroy(&attr);
  {
    Holder holder([&m] { pthread_mutex_lock(&m); },
                  [&m] { pthread_mutex_unlock(&m); });
    Waiter waiter(
        [&m] {
          pthread_mutex_lock(&m);
          pthread_mutex_unlock(&m);
        },
        [&holder] { holder.Release(); });
    SnapshotThread t;
    ASSERT_TRUE(AwaitFutexWaitOn(waiter.tid, &m, &t));
    const uint64_t op = t.syscall_args[1] & 0x7f;
    EXPECT_TRUE(op == 6 || op == 13) << op;  // LOCK_PI or LOCK_PI2
    // No stack at all: the PI operation is enough.
    const LockWait w =
        ClassifyWait(t, {}, [&holder](pid_t tid) { return tid == holder.tid; });
    EXPECT_EQ(w.kind, WaitKind::kMutex);
    EXPECT_EQ(w.lock_addr, Addr(&m));
    EXPECT_EQ(w.owner, holder.tid);
  }
  pthread_mutex_destroy(&m);
}

class LockAnalysisRwlockTest : public ::testing::Test {
 protected:
  ~LockAnalysisRwlockTest() override { pthread_rwlock_destroy(&rw_); }
  void Lock(bool write) {
    if (write) {
      pthread_rwlock_wrlock(&rw_);
    } else {
      pthread_rwlock_rdlock(&rw_);
    }
  }
  void Unlock() { pthread_rwlock_unlock(&rw_); }

  // Holds rw_ (to write or read) on one thread, waits for it on another,
  // and classifies the waiter as the kernel and memory show it.
  LockWait Classify(bool hold_write, bool wait_write, pid_t* holder_tid) {
    Holder holder([this, hold_write] { Lock(hold_write); },
                  [this] { Unlock(); });
    Waiter waiter(
        [this, wait_write] {
          Lock(wait_write);
          Unlock();
        },
        [&holder] { holder.Release(); });
    *holder_tid = holder.tid;
    SnapshotThread t;
    EXPECT_TRUE(AwaitFutexWaitOn(waiter.tid, &rw_, &t));
    const pid_t holder_id = holder.tid;
    const pid_t waiter_id = waiter.tid;
    return ClassifyWait(t,
                        Frames({"__futex_abstimed_wait_common",
                                wait_write ? "___pthread_rwlock_wrlock"
                                           : "___pthread_rwlock_rdlock"}),
                        [holder_id, waiter_id](pid_t tid) {
                          return tid == holder_id || tid == waiter_id;
                        });
  }

  pthread_rwlock_t rw_ = PTHREAD_RWLOCK_INITIALIZER;
};

TEST_F(LockAnalysisRwlockTest, ReaderWaitsForWriter) {
  pid_t writer = 0;
  const LockWait w =
      Classify(/*hold_write=*/true, /*wait_write=*/false, &writer);
  EXPECT_EQ(w.kind, WaitKind::kRwlockRead);
  EXPECT_EQ(w.lock_addr, Addr(&rw_));
  EXPECT_EQ(w.owner, writer);
}

TEST_F(LockAnalysisRwlockTest, WriterWaitsForWriter) {
  pid_t writer = 0;
  const LockWait w =
      Classify(/*hold_write=*/true, /*wait_write=*/true, &writer);
  EXPECT_EQ(w.kind, WaitKind::kRwlockWrite);
  EXPECT_EQ(w.lock_addr, Addr(&rw_));
  EXPECT_EQ(w.owner, writer);
}

TEST_F(LockAnalysisRwlockTest, WriterWaitsForReaders) {
  pid_t reader = 0;
  const LockWait w =
      Classify(/*hold_write=*/false, /*wait_write=*/true, &reader);
  EXPECT_EQ(w.kind, WaitKind::kRwlockWrite);
  EXPECT_EQ(w.lock_addr, Addr(&rw_));
  EXPECT_EQ(w.owner, 0);  // readers hold it; glibc does not record which
}

TEST(LockAnalysisTest, RealConditionVariableWait) {
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  Waiter waiter(
      [&] {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&ready] { return ready; });
      },
      [&] {
        {
          std::lock_guard<std::mutex> lock(m);
          ready = true;
        }
        cv.notify_all();
      });
  SnapshotThread t;
  ASSERT_TRUE(AwaitFutexWaitOn(waiter.tid, &cv, &t));
  const LockWait w = ClassifyWait(
      t,
      Frames({"__futex_abstimed_wait_common", "__pthread_cond_wait_common",
              "std::condition_variable::wait(std::unique_lock<std::mutex>&)"}),
      [](pid_t) { return true; });
  EXPECT_EQ(w.kind, WaitKind::kCondition);
  EXPECT_EQ(w.lock_addr, t.syscall_args[0]);
  EXPECT_EQ(w.owner, 0);
}

TEST(LockAnalysisTest, RealJoinNamesTheJoinedThread) {
  std::promise<void> finish;
  std::promise<pid_t> joined_tid;
  std::thread joined([&] {
    joined_tid.set_value(GetTid());
    finish.get_future().wait();
  });
  const pid_t target = joined_tid.get_future().get();
  // Where glibc keeps the joined thread's struct pthread, as the stall
  // path's signal handler records it (its pthread_self()).
  const uint64_t tp = static_cast<uint64_t>(joined.native_handle());
  Waiter joiner([&joined] { joined.join(); },
                [&finish] { finish.set_value(); });
  // pthread_join sleeps on a word of the joined thread's struct pthread:
  // its TID (glibc up to 2.42, expecting the TID), or a join state (2.43).
  SnapshotThread t;
  ASSERT_TRUE(AwaitFutexWait(
      joiner.tid,
      [tp](const uint64_t* args) {
        return args[0] - tp < kThreadControlBlockSpan;
      },
      &t));
  const LockWait w = ClassifyWait(
      t,
      Frames({"__futex_abstimed_wait_common", "__pthread_clockjoin_ex",
              "std::thread::join()"}),
      [target](pid_t tid) { return tid == target; },
      [tp, target](uint64_t addr) -> pid_t {
        return addr - tp < kThreadControlBlockSpan ? target : 0;
      });
  EXPECT_EQ(w.kind, WaitKind::kJoin);
  EXPECT_EQ(w.lock_addr, t.syscall_args[0]);
  EXPECT_EQ(w.owner, target);
}

// ---- FindDeadlockCycles ----

// Threads with TIDs 100, 101, ...; wait(i, kind, j) makes thread i wait for
// a lock owned by thread j.
class FindDeadlockCyclesTest : public ::testing::Test {
 protected:
  void Make(int n) {
    raw_.resize(n);
    threads_.resize(n);
    for (int i = 0; i < n; ++i) {
      raw_[i].tid = 100 + i;
      threads_[i].raw = &raw_[i];
    }
  }
  void Wait(int i, int j, WaitKind kind = WaitKind::kMutex) {
    threads_[i].wait.kind = kind;
    threads_[i].wait.lock_addr = kLock + 64 * j;
    threads_[i].wait.owner = 100 + j;
  }
  std::vector<std::vector<int>> Cycles() const {
    std::vector<std::vector<int>> out;
    for (const DeadlockCycle& c : FindDeadlockCycles(threads_))
      out.push_back(c.threads);
    return out;
  }
  using V = std::vector<std::vector<int>>;

  std::vector<SnapshotThread> raw_;
  std::vector<ThreadModel> threads_;
};

TEST_F(FindDeadlockCyclesTest, NoThreadsNoWaits) {
  EXPECT_EQ(Cycles(), V{});
  Make(3);
  EXPECT_EQ(Cycles(), V{});
}

TEST_F(FindDeadlockCyclesTest, TwoThreadCycle) {
  Make(4);
  Wait(3, 1);
  Wait(1, 3);
  EXPECT_EQ(Cycles(), (V{{1, 3}}));
}

TEST_F(FindDeadlockCyclesTest, ThreeThreadCycleStartsAtSmallestIndex) {
  Make(5);
  Wait(4, 2);
  Wait(2, 3, WaitKind::kRwlockWrite);
  Wait(3, 4, WaitKind::kRwlockRead);
  EXPECT_EQ(Cycles(), (V{{2, 3, 4}}));
}

TEST_F(FindDeadlockCyclesTest, SelfDeadlockIsACycleOfOne) {
  Make(2);
  Wait(1, 1);
  EXPECT_EQ(Cycles(), (V{{1}}));
}

TEST_F(FindDeadlockCyclesTest, ChainIsNotACycle) {
  Make(4);
  Wait(0, 1);
  Wait(1, 2);
  Wait(2, 3);
  EXPECT_EQ(Cycles(), V{});
}

TEST_F(FindDeadlockCyclesTest, ChainIntoACycleReportsOnlyTheCycle) {
  Make(4);
  Wait(0, 3);
  Wait(3, 2);
  Wait(2, 3);
  EXPECT_EQ(Cycles(), (V{{2, 3}}));
}

TEST_F(FindDeadlockCyclesTest, ConditionVariableWaiterMakesNoEdge) {
  Make(2);
  Wait(0, 1);
  Wait(1, 0, WaitKind::kCondition);
  EXPECT_EQ(Cycles(), V{});
  Wait(1, 0, WaitKind::kJoin);
  EXPECT_EQ(Cycles(), V{});
  Wait(1, 0, WaitKind::kOtherFutex);
  EXPECT_EQ(Cycles(), V{});
  Wait(1, 0, WaitKind::kMutex);
  EXPECT_EQ(Cycles(), (V{{0, 1}}));
}

TEST_F(FindDeadlockCyclesTest, TwoDisjointCyclesInIndexOrder) {
  Make(6);
  Wait(5, 1);
  Wait(1, 5);
  Wait(0, 4);
  Wait(4, 2);
  Wait(2, 0);
  Wait(3, 3);
  EXPECT_EQ(Cycles(), (V{{0, 4, 2}, {1, 5}, {3}}));
}

TEST_F(FindDeadlockCyclesTest, OwnerOutsideTheThreadsOrUnknownMakesNoEdge) {
  Make(3);
  Wait(0, 1);
  threads_[1].wait.kind = WaitKind::kMutex;
  threads_[1].wait.owner = 999;  // not a listed thread
  threads_[2].wait.kind = WaitKind::kMutex;
  threads_[2].wait.owner = 0;
  EXPECT_EQ(Cycles(), V{});
  // A thread without snapshot data is no one's owner.
  threads_[1].raw = nullptr;
  Wait(2, 1);
  EXPECT_EQ(Cycles(), V{});
}

}  // namespace
}  // namespace gtest_watchdog_internal
