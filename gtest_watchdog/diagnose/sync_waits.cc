// File: gtest_watchdog/diagnose/sync_waits.cc
//
// Abseil and C++20 waits: names from the stack, objects and owners from
// Abseil's per-thread bookkeeping in the live process.
#include "gtest_watchdog/diagnose/sync_waits.h"

#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace gtest_watchdog_internal {
namespace {

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// "absl::debian3::Mutex::Lock()" -> "absl::Mutex::Lock()": Abseil's
// inline namespace ("lts_20220623", Debian's "debian3") carries a digit;
// its real namespaces do not.
std::string WithoutAbslVersion(std::string_view f) {
  std::string out(f);
  size_t at = 0;
  while ((at = out.find("absl::", at)) != std::string::npos) {
    const size_t start = at + 6;
    const size_t end = out.find("::", start);
    if (end == std::string::npos) break;
    bool digit = false;
    bool word = end > start;
    for (size_t i = start; i < end; ++i) {
      const unsigned char c = static_cast<unsigned char>(out[i]);
      if (std::isdigit(c) != 0) digit = true;
      if (std::isalnum(c) == 0 && c != '_') word = false;
    }
    if (digit && word) out.erase(start, end + 2 - start);
    at = start;
  }
  return out;
}

// What one frame says about a primitive's wait.
enum class Role {
  kOutside,   // not the primitive's code: the run of its frames ends
  kInternal,  // its machinery (futex wrapper, per-thread semaphore, ...)
  kApi,       // a function the program calls: names the primitive
};

struct FrameSays {
  Role role = Role::kOutside;
  const char* primitive = "";
  WaitKind kind = WaitKind::kNone;
  bool timed = false;
  bool condition = false;
};

bool TimedName(std::string_view f) {
  return Contains(f, "WithTimeout") || Contains(f, "WithDeadline") ||
         Contains(f, "try_acquire_for") || Contains(f, "try_acquire_until") ||
         Contains(f, "wait_for") || Contains(f, "wait_until");
}

FrameSays Abseil(const std::string& f) {
  FrameSays s;
  if (Contains(f, "absl::synchronization_internal::") ||
      Contains(f, "absl::base_internal::") ||
      Contains(f, "AbslInternalPerThreadSem") ||
      Contains(f, "absl::Mutex::Block(") ||
      Contains(f, "absl::Mutex::LockSlow") ||
      Contains(f, "absl::Mutex::AwaitCommon(") ||
      Contains(f, "absl::CondVar::WaitCommon(")) {
    s.role = Role::kInternal;
    return s;
  }
  s.role = Role::kApi;
  s.timed = TimedName(f);
  if (Contains(f, "absl::Notification::WaitForNotification")) {
    s.primitive = "absl::Notification";
    s.kind = WaitKind::kEvent;
  } else if (Contains(f, "absl::BlockingCounter::Wait(")) {
    s.primitive = "absl::BlockingCounter";
    s.kind = WaitKind::kEvent;
  } else if (Contains(f, "absl::Barrier::Block(")) {
    s.primitive = "absl::Barrier";
    s.kind = WaitKind::kEvent;
  } else if (Contains(f, "absl::CondVar::Wait")) {
    s.primitive = "absl::CondVar";
    s.kind = WaitKind::kCondition;
  } else if (Contains(f, "absl::Mutex::") || Contains(f, "MutexLock::")) {
    // Lock, ReaderLock, WriterLock, LockWhen..., Await..., and the scoped
    // MutexLock / ReaderMutexLock / WriterMutexLock (inlined constructors).
    s.primitive = "absl::Mutex";
    s.condition = Contains(f, "LockWhen") || Contains(f, "Await") ||
                  Contains(f, "Condition");
    s.kind = s.condition ? WaitKind::kCondition : WaitKind::kMutex;
  } else {
    s.role = Role::kOutside;
  }
  return s;
}

FrameSays Cxx20(std::string_view f) {
  FrameSays s;
  if (Contains(f, "std::__detail::__platform_wait") ||
      Contains(f, "std::__detail::__waiter") ||
      Contains(f, "std::__detail::__cond_wait") ||
      Contains(f, "std::__detail::__spin") ||
      Contains(f, "std::__detail::__wait_impl") ||
      Contains(f, "std::__atomic_wait_address")) {
    s.role = Role::kInternal;
    return s;
  }
  s.role = Role::kApi;
  s.kind = WaitKind::kEvent;
  s.timed = TimedName(f);
  if (Contains(f, "std::latch::")) {
    s.primitive = "std::latch";
  } else if (Contains(f, "std::barrier<") ||
             Contains(f, "std::__tree_barrier")) {
    s.primitive = "std::barrier";
  } else if (Contains(f, "std::counting_semaphore<") ||
             Contains(f, "std::__atomic_semaphore") ||
             Contains(f, "std::__platform_semaphore") ||  // GCC 16: _impl<>
             Contains(f, "std::__semaphore_impl")) {
    s.primitive = "std::counting_semaphore";
  } else if ((Contains(f, "std::atomic<") || Contains(f, "std::atomic_ref<") ||
              Contains(f, "std::__atomic_base<") ||
              Contains(f, "std::__atomic_ref<") ||
              Contains(f, "std::__atomic_ref_base<") ||  // GCC 16
              Contains(f, "std::__atomic_float<") ||
              Contains(f, "std::__atomic_impl::") ||
              Contains(f, "std::atomic_flag::")) &&
             Contains(f, "wait")) {
    s.primitive = "std::atomic::wait";
  } else {
    s.role = Role::kOutside;
  }
  return s;
}

FrameSays Says(const SourceFrame& frame) {
  const std::string& f = frame.function;
  FrameSays s;
  // Unnamed frames inside a library, and glibc's syscall() wrapper, which
  // both Abseil and libstdc++ call with SYS_futex.
  if (f.empty() || f == "??" || f == "syscall" || f.rfind("syscall@", 0) == 0) {
    s.role = Role::kInternal;
    return s;
  }
  if (Contains(f, "absl::") || Contains(f, "AbslInternal")) {
    return Abseil(WithoutAbslVersion(f));
  }
  if (Contains(f, "std::")) return Cxx20(f);
  return s;
}

// ---- Abseil's memory, 20220623 on x86-64 ----
// base_internal::ThreadIdentity starts with PerThreadSynch: next @0,
// waitp (SynchWaitParams*) @32, all_locks (SynchLocksHeld*) @56; the
// futex word of its Waiter follows the PerThreadSynch.
constexpr uint64_t kSynchWaitp = 32;
constexpr uint64_t kSynchAllLocks = 56;
// Where the futex word lies after the identity (20220623; later releases
// grew PerThreadSynch).
constexpr uint64_t kFutexAfterIdentity[] = {0x40, 0x80};
// SynchWaitParams: how @0, cond @8, timeout @16, cvmu @24, thread @32,
// cv_word @40 (a CondVar's wait; cleared once queued on it).
struct WaitParams {
  uint64_t how, cond, timeout, cvmu, thread, cv_word;
};
// Mutex::mu_: the waiter queue's last PerThreadSynch above the low bits.
constexpr uint64_t kMuWait = 0x04;
constexpr uint64_t kMuLow = 0xff;
// CondVar::cv_: the same above its two low bits (kCvSpin, kCvEvent).
constexpr uint64_t kCvLow = 0x03;
// Condition::arg_ (20220623: eval_, function_, method_ (16 bytes), arg_;
// later: eval_, a 16-byte callback, arg_).
constexpr uint64_t kConditionArg[] = {32, 24};
// Where an event's Mutex lies below the Condition's argument:
// Notification {Mutex; atomic<bool> notified_yet_}, Barrier {Mutex; int
// num_to_block_; ...}: 8; BlockingCounter {Mutex; atomic<int>; int; bool
// done_}: 16.
constexpr uint64_t kMutexBelowArg[] = {8, 16};
// SynchLocksHeld: int n @0, locks[40] @8, each {Mutex* mu; int32 count;
// GraphId id} in 24 bytes.
constexpr int kMaxHeld = 40;
constexpr uint64_t kHeldEntry = 24;
// How far the identity pointer may lie in the struct pthread (Abseil keeps
// it with pthread_setspecific on Linux: a slot of specific_1stblock).
constexpr size_t kPthreadScan = 4096;
constexpr size_t kPthreadPiece = 256;
// The waiting thread's stack around its SynchWaitParams, scanned for the
// Mutex's address (Mutex::LockSlow* keep `this` in saved registers).
constexpr uint64_t kStackBelow = 1536;
constexpr uint64_t kStackAbove = 512;
constexpr int kMaxQueue = 4096;

template <typename T>
bool Read(const ReadMemoryFn& read, uint64_t addr, T* out) {
  return addr != 0 && read(addr, out, sizeof(*out));
}

class AbslMemory {
 public:
  explicit AbslMemory(const ReadMemoryFn& read) : read_(read) {}

  // The identity waiting on `futex`, and its wait's parameters.
  bool Identity(uint64_t futex, uint64_t* identity, uint64_t* waitp,
                WaitParams* p) const {
    for (uint64_t off : kFutexAfterIdentity) {
      const uint64_t id = futex - off;
      if (Read(read_, id + kSynchWaitp, waitp) && Read(read_, *waitp, p) &&
          p->thread == id) {
        *identity = id;
        return true;
      }
    }
    return false;
  }

  // Whether `identity` is queued on the absl::Mutex (or, with `cv`, the
  // absl::CondVar) at `addr`: both keep a circular list of waiters whose
  // last one the word points to, above the low flag bits.
  bool Queued(uint64_t addr, uint64_t identity, bool cv = false) {
    if (addr == 0 || addr % 8 != 0) return false;
    // Each queue is walked once: a thousand threads may wait on one mutex.
    const uint64_t key = addr | (cv ? 1 : 0);
    auto it = queues_.find(key);
    if (it == queues_.end()) {
      it = queues_.emplace(key, std::unordered_set<uint64_t>()).first;
      uint64_t word = 0;
      if (Read(read_, addr, &word) && (cv || (word & kMuWait) != 0)) {
        const uint64_t last = word & ~(cv ? kCvLow : kMuLow);
        uint64_t p = last;
        for (int i = 0; i < kMaxQueue && p != 0; ++i) {
          it->second.insert(p);
          if (!Read(read_, p, &p) || p == last) break;
        }
      }
    }
    return it->second.count(identity) != 0;
  }

  // The mutex `identity` waits on, among addresses around its wait.
  uint64_t FindMutex(uint64_t identity, uint64_t waitp, const WaitParams& p,
                     const std::unordered_map<uint64_t, pid_t>& held) {
    for (const auto& [mu, tid] : held) {
      if (Queued(mu, identity)) return mu;
    }
    if (p.cond != 0) {
      for (uint64_t arg_at : kConditionArg) {
        uint64_t arg = 0;
        if (!Read(read_, p.cond + arg_at, &arg)) continue;
        for (uint64_t below : kMutexBelowArg) {
          if (arg > below && Queued(arg - below, identity)) return arg - below;
        }
      }
    }
    return ScanStack(identity, waitp, false);
  }

  // The Mutex (CondVar with `cv`) whose address the waiting thread's stack
  // holds near its wait's parameters (waitp lies in that stack) and whose
  // queue holds the thread; 0 if none.
  uint64_t ScanStack(uint64_t identity, uint64_t waitp, bool cv) {
    uint64_t window[(kStackBelow + kStackAbove) / 8];
    const uint64_t base = waitp - kStackBelow;
    size_t words = sizeof(window) / 8;
    if (!read_(base, window, sizeof(window))) {
      words = kStackBelow / 8 + sizeof(WaitParams) / 8;
      if (!read_(base, window, words * 8)) return 0;
    }
    for (size_t i = 0; i < words; ++i) {
      const uint64_t v = window[i];
      if (v < 0x10000 || v % 8 != 0 || v == identity ||
          (v >= base && v < base + words * 8)) {
        continue;
      }
      if (Queued(v, identity, cv)) return v;
    }
    return 0;
  }

  // Where the identity pointer lies in every struct pthread, learnt from a
  // thread whose identity is known; 0 when not found.
  size_t IdentitySlot(uint64_t thread_pointer, uint64_t identity) const {
    if (thread_pointer == 0) return 0;
    // A thread's struct pthread ends its stack's mapping, often less than
    // kPthreadScan on: read it a piece at a time until the end.
    uint64_t piece[kPthreadPiece / 8];
    for (size_t at = 0; at < kPthreadScan; at += kPthreadPiece) {
      if (!read_(thread_pointer + at, piece, sizeof(piece))) break;
      for (size_t i = at == 0 ? 1 : 0; i < kPthreadPiece / 8; ++i) {
        if (piece[i] == identity) return at + i * 8;
      }
    }
    return 0;
  }

  // Adds the mutexes held by the thread whose identity pointer is at
  // `slot` to `held`.
  void AddHeld(uint64_t slot, pid_t tid,
               std::unordered_map<uint64_t, pid_t>* held) const {
    uint64_t identity = 0;
    uint64_t locks = 0;
    if (!Read(read_, slot, &identity) ||
        !Read(read_, identity + kSynchAllLocks, &locks) || locks == 0) {
      return;
    }
    // Abseil allocates the whole list: one read, two if it ends early.
    unsigned char list[8 + kMaxHeld * kHeldEntry];
    int32_t n = 0;
    if (read_(locks, list, sizeof(list))) {
      std::memcpy(&n, list, sizeof(n));
      if (n <= 0 || n > kMaxHeld) return;
    } else if (!Read(read_, locks, &n) || n <= 0 || n > kMaxHeld ||
               !read_(locks, list, 8 + static_cast<size_t>(n) * kHeldEntry)) {
      return;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t mu = 0;
      int32_t count = 0;
      std::memcpy(&mu, list + 8 + i * kHeldEntry, sizeof(mu));
      std::memcpy(&count, list + 8 + i * kHeldEntry + 8, sizeof(count));
      if (mu != 0 && count > 0) held->emplace(mu, tid);
    }
  }

 private:
  const ReadMemoryFn& read_;
  // The waiters queued on each Mutex (key: address) or CondVar (address | 1).
  std::unordered_map<uint64_t, std::unordered_set<uint64_t>> queues_;
};

// The primitive of an Abseil wait whose API frame is missing.
constexpr char kAbseil[] = "absl";

bool IsAbseil(const LockWait& w) { return w.primitive.rfind(kAbseil, 0) == 0; }

}  // namespace

bool ClassifySyncWait(const std::vector<SourceFrame>& frames, LockWait* w) {
  FrameSays found;
  bool api = false;
  bool abseil = false;  // Abseil's machinery seen
  for (const SourceFrame& frame : frames) {
    const FrameSays s = Says(frame);
    if (s.role == Role::kOutside) break;
    if (s.role == Role::kInternal) {
      if (api) break;  // machinery after the API: another wait's frames
      abseil = abseil || Contains(frame.function, "absl::") ||
               Contains(frame.function, "AbslInternal");
      continue;
    }
    // The outermost of a run of API frames names the primitive: a
    // Notification waits through Mutex::LockWhen, a barrier through an
    // atomic's wait.
    const bool timed = found.timed || s.timed;
    found = s;
    found.timed = timed;
    api = true;
  }
  if (!api && abseil) {
    // Abseil's machinery called from code whose frame is gone (CondVar::Wait
    // tail-calls an unexported function): ResolveAbslWaits may tell more.
    w->kind = WaitKind::kOtherFutex;
    w->primitive = kAbseil;
    return true;
  }
  if (!api) return false;
  w->kind = found.kind;
  w->primitive = found.primitive;
  w->timed = found.timed;
  w->condition = found.condition;
  // An Abseil thread sleeps on its own word; std::barrier on a shared
  // waiter pool's: neither is the object.
  if (w->primitive.rfind("absl::", 0) == 0 || w->primitive == "std::barrier")
    w->lock_addr = 0;
  return true;
}

void ResolveAbslWaits(std::vector<ThreadModel>* threads,
                      const ReadMemoryFn& read,
                      const std::function<bool(pid_t)>& is_our_thread) {
  if (!read) return;
  AbslMemory mem(read);
  struct Waiting {
    ThreadModel* t;
    uint64_t identity;
    uint64_t waitp;
    WaitParams params;
  };
  std::vector<Waiting> waiting;
  for (ThreadModel& t : *threads) {
    if (!IsAbseil(t.wait) || t.raw == nullptr) continue;
    Waiting w{&t, 0, 0, {}};
    if (mem.Identity(t.raw->syscall_args[0], &w.identity, &w.waitp, &w.params))
      waiting.push_back(w);
  }
  if (waiting.empty()) return;

  // Who holds which mutex: Abseil's held-locks lists (debug builds), read
  // only when a thread waits for a plain lock (the others own nothing).
  std::unordered_map<uint64_t, pid_t> held;
  size_t slot = 0;
  for (const Waiting& w : waiting) {
    if (w.params.cond != 0 || w.params.cvmu != 0) continue;
    slot = mem.IdentitySlot(w.t->raw->thread_pointer, w.identity);
    if (slot != 0) break;
  }
  if (slot != 0) {
    for (const ThreadModel& t : *threads) {
      if (t.raw != nullptr && t.raw->thread_pointer != 0)
        mem.AddHeld(t.raw->thread_pointer + slot, t.raw->tid, &held);
    }
  }

  for (Waiting& w : waiting) {
    LockWait& lw = w.t->wait;
    if (w.params.cvmu != 0) {
      // A CondVar wait (cvmu: the Mutex it releases). cv_word, the
      // CondVar's only member, is cleared once the thread is queued on it.
      lw.kind = WaitKind::kCondition;
      lw.primitive = "absl::CondVar";
      lw.lock_addr = w.params.cv_word != 0
                         ? w.params.cv_word
                         : mem.ScanStack(w.identity, w.waitp, true);
      continue;
    }
    const uint64_t mu = mem.FindMutex(w.identity, w.waitp, w.params, held);
    if (mu == 0) continue;
    lw.lock_addr = mu;
    if (w.params.cond != 0) {
      // Events wait for a Condition on their own Mutex, their first member.
      if (lw.primitive == "absl::Mutex" || lw.primitive == kAbseil) {
        lw.kind = WaitKind::kCondition;
        lw.primitive = "absl::Mutex";
        lw.condition = true;
      }
      continue;
    }
    // A plain lock (an event's Mutex is only held briefly: its holder is
    // the thread that waits for it).
    lw.kind = WaitKind::kMutex;
    lw.primitive = "absl::Mutex";
    lw.condition = false;
    const auto owner = held.find(mu);
    if (owner != held.end() && is_our_thread(owner->second))
      lw.owner = owner->second;
  }
}

}  // namespace gtest_watchdog_internal
