#include "gtest_watchdog/diagnose/lock_analysis.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "gtest_watchdog/diagnose/sync_waits.h"

namespace gtest_watchdog_internal {
namespace {

// futex(2) operations (args[1] & kFutexCmdMask drops FUTEX_PRIVATE_FLAG and
// FUTEX_CLOCK_REALTIME).
constexpr uint64_t kFutexCmdMask = 0x7f;
constexpr uint64_t kFutexWait = 0;
constexpr uint64_t kFutexLockPi = 6;
constexpr uint64_t kFutexWaitBitset = 9;
constexpr uint64_t kFutexWaitRequeuePi = 11;
constexpr uint64_t kFutexLockPi2 = 13;
// A PI futex word holds the owner's TID under the WAITERS/OWNER_DIED bits.
constexpr uint32_t kFutexTidMask = 0x3fffffff;

// glibc 2.36 x86-64 pthread_mutex_t (bits/struct_mutex.h): __lock @0,
// __count @4, __owner @8, __nusers @12, __kind @16. The futex is __lock.
constexpr uint64_t kMutexOwner = 8;
constexpr uint64_t kMutexKind = 16;
// Every bit __kind may carry: type (3), ROBUST 16, PRIO_INHERIT 32,
// PRIO_PROTECT 64, PSHARED 128, ELISION 256, NO_ELISION 512, and a
// priority-protect mutex's ceiling in bits 19-31
// (PTHREAD_MUTEX_PRIO_CEILING_MASK).
constexpr uint32_t kMutexKindBits = 0x3f3 | 0xfff80000u;

// glibc 2.36 x86-64 pthread_rwlock_t (bits/struct_rwlock.h).
constexpr uint64_t kRwReaders = 0;
constexpr uint64_t kRwWrphaseFutex = 8;
constexpr uint64_t kRwWritersFutex = 12;
constexpr uint64_t kRwPad3 = 16;
constexpr uint64_t kRwPad4 = 20;
constexpr uint64_t kRwCurWriter = 24;
constexpr uint64_t kRwShared = 28;
constexpr uint64_t kRwFlags = 48;
// pthread_rwlock_common.c: the values a waiter expects in the futex word.
// A writer waits on __writers_futex for 1|FUTEX_USED (another writer holds
// the lock) or on __wrphase_futex for FUTEX_USED (readers hold it); a
// reader on __wrphase_futex for 1|FUTEX_USED (a writer holds it) or on
// __readers while RWAITING is set (writer-preferring lock with readers).
constexpr uint64_t kRwFutexUsed = 2;
constexpr uint64_t kRwReadersWaiting = 4;  // PTHREAD_RWLOCK_RWAITING

// What a function on the stack says about the wait.
enum class Says {
  kNothing,  // not a function we know: look further out
  kMutex,
  kRwlockWrite,
  kRwlockRead,
  kCondition,
  kJoin,
  kOther,  // a known futex waiter without an owner (semaphore, ...): stop
};

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Rules for C++ names, on the whole demangled name: parameter types cannot
// contain "::lock(" and the like, so substrings are safe here.
Says FromCxxName(std::string_view f) {
  if (Contains(f, "shared_mutex") || Contains(f, "shared_timed_mutex")) {
    if (Contains(f, "lock_shared")) return Says::kRwlockRead;
    if (Contains(f, "::lock(") || Contains(f, "::try_lock_for") ||
        Contains(f, "::try_lock_until")) {
      return Says::kRwlockWrite;
    }
    return Says::kNothing;
  }
  if (Contains(f, "std::mutex::lock(") ||
      Contains(f, "std::recursive_mutex::lock(") ||
      Contains(f, "std::timed_mutex") ||
      Contains(f, "std::recursive_timed_mutex")) {
    return Says::kMutex;
  }
  if (Contains(f, "condition_variable::wait") ||
      Contains(f, "condition_variable_any::wait") ||
      Contains(f, "std::__condvar::wait")) {
    return Says::kCondition;
  }
  if (Contains(f, "std::thread::join(")) return Says::kJoin;
  // libstdc++'s own futex waits (atomic wait, semaphores, latches, futures)
  // have no owner to find.
  if (Contains(f, "__platform_wait") || Contains(f, "_M_futex_wait_until") ||
      Contains(f, "__atomic_wait_address") || Contains(f, "_semaphore") ||
      Contains(f, "std::latch::")) {
    return Says::kOther;
  }
  return Says::kNothing;
}

// The C name without what linkers and compilers add around it:
// "__GI___pthread_mutex_lock", "pthread_mutex_lock@@GLIBC_2.2.5" and
// "__pthread_mutex_lock_full.constprop.0" all become the plain name.
std::string_view BaseName(std::string_view f) {
  f = f.substr(0, f.find_first_of("@.("));
  auto strip_underscores = [](std::string_view s) {
    return s.substr(std::min(s.find_first_not_of('_'), s.size()));
  };
  f = strip_underscores(f);
  if (StartsWith(f, "GI_")) f = strip_underscores(f.substr(3));
  return f;
}

Says FromCName(std::string_view f) {
  const std::string_view b = BaseName(f);
  // glibc's internal locks (stdio, malloc, ...) use __lll_lock_wait_private
  // and have no owner field: match it before its public sibling.
  if (b == "lll_lock_wait_private") return Says::kOther;
  if (b == "lll_lock_wait" || b == "lll_clocklock_wait" ||
      b == "lll_timedlock_wait" || StartsWith(b, "pthread_mutex_lock") ||
      StartsWith(b, "pthread_mutex_timedlock") ||
      StartsWith(b, "pthread_mutex_clocklock") ||
      StartsWith(b, "pthread_mutex_cond_lock") ||
      StartsWith(b, "gthread_mutex_lock") ||
      StartsWith(b, "gthread_mutex_timedlock") ||
      StartsWith(b, "gthread_recursive_mutex_lock") ||
      StartsWith(b, "gthread_recursive_mutex_timedlock")) {
    return Says::kMutex;
  }
  if (StartsWith(b, "pthread_rwlock_wrlock") ||
      StartsWith(b, "pthread_rwlock_timedwrlock") ||
      StartsWith(b, "pthread_rwlock_clockwrlock") ||
      StartsWith(b, "glibcxx_rwlock_wrlock") ||
      StartsWith(b, "glibcxx_rwlock_timedwrlock") ||
      StartsWith(b, "glibcxx_rwlock_clockwrlock")) {
    return Says::kRwlockWrite;
  }
  if (StartsWith(b, "pthread_rwlock_rdlock") ||
      StartsWith(b, "pthread_rwlock_timedrdlock") ||
      StartsWith(b, "pthread_rwlock_clockrdlock") ||
      StartsWith(b, "glibcxx_rwlock_rdlock") ||
      StartsWith(b, "glibcxx_rwlock_timedrdlock") ||
      StartsWith(b, "glibcxx_rwlock_clockrdlock")) {
    return Says::kRwlockRead;
  }
  if (StartsWith(b, "pthread_cond_wait") ||
      StartsWith(b, "pthread_cond_timedwait") ||
      StartsWith(b, "pthread_cond_clockwait") ||
      StartsWith(b, "gthread_cond_wait") ||
      StartsWith(b, "gthread_cond_timedwait")) {
    return Says::kCondition;
  }
  if (StartsWith(b, "pthread_join") || StartsWith(b, "pthread_clockjoin") ||
      StartsWith(b, "pthread_timedjoin")) {
    return Says::kJoin;
  }
  // Semaphores and raw syscall(SYS_futex, ...): a futex nobody owns. Stop
  // here so that an outer frame (a condition wait's predicate, say) does
  // not claim this wait.
  if (StartsWith(b, "sem_wait") || StartsWith(b, "sem_timedwait") ||
      StartsWith(b, "sem_clockwait") || StartsWith(b, "new_sem_wait") ||
      b == "do_futex_wait" || b == "syscall") {
    return Says::kOther;
  }
  return Says::kNothing;
}

Says FromStack(const std::vector<SourceFrame>& frames) {
  for (const SourceFrame& frame : frames) {
    const std::string_view f = frame.function;
    if (f.empty()) continue;
    const Says says = Contains(f, "::") ? FromCxxName(f) : FromCName(f);
    if (says != Says::kNothing) return says;
  }
  return Says::kNothing;
}

// Reads the u32 at addr from the copied futex window; false if any of its
// bytes lie outside it.
bool ReadU32(const SnapshotThread& t, uint64_t addr, uint32_t* out) {
  const uint64_t size = t.futex_bytes.size();
  if (size == 0 || addr < t.futex_base) return false;
  const uint64_t offset = addr - t.futex_base;
  if (offset > size || size - offset < sizeof(*out)) return false;
  std::memcpy(out, t.futex_bytes.data() + offset, sizeof(*out));
  return true;
}

pid_t OurThread(uint32_t tid, const std::function<bool(pid_t)>& is_ours) {
  const pid_t p = static_cast<pid_t>(tid);
  return p > 0 && is_ours(p) ? p : 0;
}

pid_t MutexOwner(const SnapshotThread& t, uint64_t mutex,
                 const std::function<bool(pid_t)>& is_ours) {
  uint32_t kind = 0;
  uint32_t owner = 0;
  // A __kind with unknown bits (or -1 after pthread_mutex_destroy) says
  // these bytes are no live mutex: trust no owner in them.
  if (!ReadU32(t, mutex + kMutexKind, &kind) || (kind & ~kMutexKindBits) != 0)
    return 0;
  if (!ReadU32(t, mutex + kMutexOwner, &owner)) return 0;
  return OurThread(owner, is_ours);
}

// Whether the bytes at base look like a live rwlock. Fields outside the
// copied window are not held against it (__flags lies 48 bytes in).
bool SaneRwlock(const SnapshotThread& t, uint64_t base) {
  uint32_t v = 0;
  if (!ReadU32(t, base + kRwCurWriter, &v)) return false;
  if (!ReadU32(t, base + kRwShared, &v) || v > 1) return false;
  if (ReadU32(t, base + kRwPad3, &v) && v != 0) return false;
  if (ReadU32(t, base + kRwPad4, &v) && v != 0) return false;
  // PREFER_READER_NP 0, PREFER_WRITER_NP 1, PREFER_WRITER_NONRECURSIVE_NP 2.
  if (ReadU32(t, base + kRwFlags, &v) && v > 2) return false;
  return true;
}

pid_t RwlockWriter(const SnapshotThread& t, uint64_t base,
                   const std::function<bool(pid_t)>& is_ours) {
  uint32_t writer = 0;
  if (!ReadU32(t, base + kRwCurWriter, &writer)) return 0;
  return OurThread(writer, is_ours);
}

// Finds the rwlock around the futex at uaddr. The value the waiter expects
// tells which field it sleeps on; when it does not, the candidates whose
// __cur_writer is ours and whose fields look sane decide.
void ResolveRwlock(const SnapshotThread& t, bool writer, uint64_t uaddr,
                   uint64_t expected, const std::function<bool(pid_t)>& is_ours,
                   LockWait* w) {
  uint64_t known = 0;  // base implied by the expected value, 0 if none
  if (writer && expected == (1 | kRwFutexUsed)) {
    known = uaddr - kRwWritersFutex;
  } else if ((writer && expected == kRwFutexUsed) ||
             (!writer && expected == (1 | kRwFutexUsed))) {
    known = uaddr - kRwWrphaseFutex;
  } else if (!writer && (expected & kRwReadersWaiting) != 0) {
    known = uaddr - kRwReaders;
  }
  if (known != 0) {
    w->lock_addr = known;
    if (SaneRwlock(t, known)) w->owner = RwlockWriter(t, known, is_ours);
    return;
  }
  const uint64_t candidates[] = {uaddr - kRwWritersFutex,
                                 uaddr - kRwWrphaseFutex, uaddr - kRwReaders};
  for (uint64_t base : candidates) {
    if (!SaneRwlock(t, base)) continue;
    const pid_t owner = RwlockWriter(t, base, is_ours);
    if (owner != 0) {
      w->lock_addr = base;
      w->owner = owner;
      return;
    }
  }
  // No writer holds it (readers do), and the field is unknown: the futex
  // address is the best address we have.
  w->lock_addr = uaddr;
}

}  // namespace

LockWait ClassifyWait(const SnapshotThread& t,
                      const std::vector<SourceFrame>& frames,
                      const std::function<bool(pid_t)>& is_our_thread,
                      const std::function<pid_t(uint64_t)>& thread_at) {
  LockWait w;
  if (t.syscall_nr != kSyscallFutex) return w;
  const uint64_t uaddr = t.syscall_args[0];
  const uint64_t op = t.syscall_args[1] & kFutexCmdMask;
  const uint64_t expected = t.syscall_args[2] & 0xffffffffu;
  const bool pi = op == kFutexLockPi || op == kFutexLockPi2;
  if (!pi && op != kFutexWait && op != kFutexWaitBitset &&
      op != kFutexWaitRequeuePi) {
    return w;  // wakes, requeues, unlocks: the thread waits for nothing
  }
  w.lock_addr = uaddr;

  // Only PI mutexes lock through the kernel, and the kernel defines their
  // futex word: the owner is known whatever the stack says.
  if (pi) {
    w.kind = WaitKind::kMutex;
    uint32_t word = 0;
    if (ReadU32(t, uaddr, &word))
      w.owner = OurThread(word & kFutexTidMask, is_our_thread);
    return w;
  }

  // Abseil's and C++20's primitives first: they wait through glibc's
  // syscall(), which alone says nothing.
  if (ClassifySyncWait(frames, &w)) {
    w.timed = w.timed || t.syscall_args[3] != 0;
    return w;
  }
  const Says says = FromStack(frames);
  switch (says) {
    case Says::kMutex:
      w.kind = WaitKind::kMutex;
      w.owner = MutexOwner(t, uaddr, is_our_thread);
      break;
    case Says::kRwlockWrite:
    case Says::kRwlockRead: {
      const bool writer = says == Says::kRwlockWrite;
      w.kind = writer ? WaitKind::kRwlockWrite : WaitKind::kRwlockRead;
      ResolveRwlock(t, writer, uaddr, expected, is_our_thread, &w);
      break;
    }
    case Says::kCondition:
      w.kind = WaitKind::kCondition;
      break;
    case Says::kJoin: {
      // pthread_join sleeps on a word that the kernel or the exiting thread
      // changes when the joined thread ends. The word lies in the joined
      // thread's struct pthread: its TID (glibc up to 2.42) or a join state
      // (2.43). The thread whose struct pthread holds it says which thread in
      // both; a small join state must never be read as a TID (in a PID
      // namespace TIDs 1, 2... are ours).
      w.kind = WaitKind::kJoin;
      const pid_t joined = thread_at ? thread_at(uaddr) : 0;
      uint32_t word = 0;
      if (joined != 0) {
        if (joined != t.tid) w.owner = OurThread(joined, is_our_thread);
      } else if (ReadU32(t, uaddr, &word) && word == expected) {
        w.owner = OurThread(word, is_our_thread);
      }
      break;
    }
    case Says::kOther:
    case Says::kNothing:
      w.kind = WaitKind::kOtherFutex;
      break;
  }
  return w;
}

std::vector<DeadlockCycle> FindDeadlockCycles(
    const std::vector<ThreadModel>& threads) {
  const int n = static_cast<int>(threads.size());
  std::unordered_map<pid_t, int> index_of;
  for (int i = 0; i < n; ++i) {
    if (threads[i].raw != nullptr) index_of.emplace(threads[i].raw->tid, i);
  }
  // A thread waits for at most one lock, which has at most one owner: each
  // node has at most one outgoing edge, so every component holds at most
  // one cycle and following the edges finds it.
  std::vector<int> next(n, -1);
  for (int i = 0; i < n; ++i) {
    const LockWait& w = threads[i].wait;
    const bool lock = w.kind == WaitKind::kMutex ||
                      w.kind == WaitKind::kRwlockWrite ||
                      w.kind == WaitKind::kRwlockRead;
    if (!lock || w.owner == 0) continue;
    const auto it = index_of.find(w.owner);
    if (it != index_of.end()) next[i] = it->second;
  }

  // 0: not seen; 1 + start: on the walk that began at start; -1: done.
  std::vector<int> mark(n, 0);
  std::vector<DeadlockCycle> cycles;
  for (int start = 0; start < n; ++start) {
    int v = start;
    while (v != -1 && mark[v] == 0) {
      mark[v] = 1 + start;
      v = next[v];
    }
    if (v != -1 && mark[v] == 1 + start) {
      // v is on this walk: it and its successors up to v form a new cycle.
      DeadlockCycle cycle;
      int u = v;
      do {
        cycle.threads.push_back(u);
        u = next[u];
      } while (u != v);
      std::rotate(cycle.threads.begin(),
                  std::min_element(cycle.threads.begin(), cycle.threads.end()),
                  cycle.threads.end());
      cycles.push_back(std::move(cycle));
    }
    for (v = start; v != -1 && mark[v] == 1 + start; v = next[v]) mark[v] = -1;
  }
  std::sort(cycles.begin(), cycles.end(),
            [](const DeadlockCycle& a, const DeadlockCycle& b) {
              return a.threads.front() < b.threads.front();
            });
  return cycles;
}

}  // namespace gtest_watchdog_internal
