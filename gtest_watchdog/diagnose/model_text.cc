#include "gtest_watchdog/diagnose/model_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gtest_watchdog_internal {

const char* StateName(char s) {
  switch (s) {
    case 'R':
      return "running";
    case 'S':
      return "sleeping";
    case 'D':
      return "uninterruptible sleep";
    case 'T':
      return "stopped";
    case 't':
      return "stopped by a tracer";
    case 'Z':
      return "zombie";
    case 'X':
      return "dead";
    case 'I':
      return "idle";
    default:
      return "unknown state";
  }
}

const char* TestPartName(TestPart part) {
  switch (part) {
    case TestPart::kConstructor:
      return "fixture constructor";
    case TestPart::kSetUp:
      return "SetUp()";
    case TestPart::kBody:
      return "test body";
    case TestPart::kTearDown:
      return "TearDown()";
    case TestPart::kDestructor:
      return "fixture destructor";
    case TestPart::kUnknown:
      break;
  }
  return "test";
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ThreadLabel(const ThreadModel& t) {
  return absl::StrCat("thread ", t.raw->tid, " \"", t.raw->name, "\"");
}

std::string LockText(const LockWait& w) {
  const std::string what =
      // "std::atomic g_state" reads better than the wait's name.
      w.primitive == "std::atomic::wait" ? "std::atomic"
      : !w.primitive.empty()             ? w.primitive
      : w.kind == WaitKind::kMutex       ? "mutex"
      : w.kind == WaitKind::kRwlockWrite || w.kind == WaitKind::kRwlockRead
          ? "rwlock"
      : w.kind == WaitKind::kCondition ? "condition variable"
                                       : "futex";
  if (!w.lock_name.empty()) {
    return absl::StrFormat("%s %s (0x%x)", what, w.lock_name, w.lock_addr);
  }
  // Abseil's waits sleep on a per-thread word: the object may stay unknown.
  if (w.lock_addr == 0)
    return absl::StrCat(what.rfind("absl", 0) == 0 ? "an " : "a ", what);
  return absl::StrFormat("%s 0x%x", what, w.lock_addr);
}

const char* EventText(const LockWait& w) {
  const std::string& p = w.primitive;
  if (p == "absl::Notification") return "which no thread has notified";
  if (p == "absl::BlockingCounter" || p == "std::latch")
    return "whose count has not reached zero";
  if (p == "absl::Barrier" || p == "std::barrier")
    return "which not all of its threads have reached";
  if (p == "std::counting_semaphore")
    return "which has no count to take (not released)";
  if (p == "std::atomic::wait")
    return "whose value has not changed (no notify after a change)";
  return "which no thread has signalled";
}

std::string WaitText(const ReportModel& m, const ThreadModel& t) {
  const LockWait& w = t.wait;
  std::string owner;
  if (w.owner != 0) {
    const ThreadModel* o = m.ByTid(w.owner);
    owner = o != nullptr ? ThreadLabel(*o) : absl::StrCat("thread ", w.owner);
  }
  const char* timed = w.timed ? ", with a timeout" : "";
  switch (w.kind) {
    case WaitKind::kMutex:
      return absl::StrCat(
          "blocked on ", LockText(w), ", ",
          owner.empty() ? "owner unknown" : absl::StrCat("owned by ", owner),
          timed);
    case WaitKind::kRwlockWrite:
    case WaitKind::kRwlockRead:
      return absl::StrCat(
          "waiting to ",
          w.kind == WaitKind::kRwlockWrite ? "write-lock " : "read-lock ",
          LockText(w), ", ",
          owner.empty() ? "no writer known (held by readers?)"
                        : absl::StrCat("held for writing by ", owner));
    case WaitKind::kCondition:
      if (w.condition) {
        return absl::StrCat("waiting for a Condition on ", LockText(w),
                            " (LockWhen/Await; holds no lock while waiting",
                            timed, ")");
      }
      return absl::StrCat("waiting on ", LockText(w),
                          " (for a notify; holds no lock while waiting", timed,
                          ")");
    case WaitKind::kEvent:
      return absl::StrCat("waiting on ", LockText(w), ", ", EventText(w),
                          timed);
    case WaitKind::kJoin:
      return absl::StrCat("waiting to join ",
                          owner.empty() ? "another thread" : owner);
    case WaitKind::kOtherFutex:
    case WaitKind::kNone:
      break;
  }
  return "";
}

const char* BlockKindId(BlockKind kind) {
  switch (kind) {
    case BlockKind::kRunning:
      return "running";
    case BlockKind::kFd:
      return "fd";
    case BlockKind::kChild:
      return "child";
    case BlockKind::kSleep:
      return "sleep";
    case BlockKind::kSignal:
      return "signal";
    case BlockKind::kFutex:
      return "futex";
    case BlockKind::kMemory:
      return "memory";
    case BlockKind::kOther:
      return "other";
    case BlockKind::kUnknown:
      break;
  }
  return "unknown";
}

std::string DurationText(int64_t ns) {
  if (ns < 1000000000) {
    return absl::StrFormat("%d ms", ns / 1000000);
  }
  return absl::StrFormat("%.2f s", static_cast<double>(ns) / 1e9);
}

const char* TestPartId(TestPart part) {
  switch (part) {
    case TestPart::kConstructor:
      return "constructor";
    case TestPart::kSetUp:
      return "SetUp";
    case TestPart::kBody:
      return "body";
    case TestPart::kTearDown:
      return "TearDown";
    case TestPart::kDestructor:
      return "destructor";
    case TestPart::kUnknown:
      break;
  }
  return "unknown";
}

const char* WaitKindId(WaitKind kind) {
  switch (kind) {
    case WaitKind::kMutex:
      return "mutex";
    case WaitKind::kRwlockWrite:
      return "rwlock-write";
    case WaitKind::kRwlockRead:
      return "rwlock-read";
    case WaitKind::kCondition:
      return "condition";
    case WaitKind::kJoin:
      return "join";
    case WaitKind::kOtherFutex:
      return "futex";
    case WaitKind::kEvent:
      return "event";
    case WaitKind::kNone:
      break;
  }
  return "none";
}

const char* StackSourceId(StackSource source) {
  switch (source) {
    case StackSource::kSignal:
      return "signal";
    case StackSource::kPtrace:
      return "ptrace";
    case StackSource::kKernelPc:
      return "kernel-pc";
    case StackSource::kNone:
      break;
  }
  return "none";
}

const char* VerdictKindId(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kCrash:
      return "crash";
    case VerdictKind::kDeadlock:
      return "deadlock";
    case VerdictKind::kBusy:
      return "busy";
    case VerdictKind::kBlocked:
      return "blocked";
    case VerdictKind::kSlow:
      return "slow";
    case VerdictKind::kPolling:
      return "polling";
    case VerdictKind::kNotify:
      return "waiting-for-notify";
    case VerdictKind::kNoClearCause:
      return "no-clear-cause";
    case VerdictKind::kNone:
      break;
  }
  return "";
}

const char* MotionId(Motion motion) {
  switch (motion) {
    case Motion::kIdle:
      return "idle";
    case Motion::kSameSpot:
      return "same-spot";
    case Motion::kMoved:
      return "moved";
    case Motion::kUnknown:
      break;
  }
  return "unknown";
}

// "ns::f(…)" for "ns::f(int, std::string const&)": a verdict names the
// function; file:line tells overloads apart.
std::string ShortFunction(const std::string& full) {
  // GCC's specialised copies: "f(int) [clone .constprop.0]" is f(…).
  std::string fn = full;
  for (size_t clone; !fn.empty() && fn.back() == ']' &&
                     (clone = fn.rfind(" [clone ")) != std::string::npos;) {
    fn.resize(clone);
  }
  size_t end = fn.size();
  const std::string const_suffix = " const";
  if (end > const_suffix.size() &&
      fn.compare(end - const_suffix.size(), const_suffix.size(),
                 const_suffix) == 0) {
    end -= const_suffix.size();
  }
  if (end == 0 || fn[end - 1] != ')') return fn;
  int depth = 0;
  for (size_t i = end; i-- > 0;) {
    if (fn[i] == ')') ++depth;
    if (fn[i] == '(' && --depth == 0) {
      if (i + 2 == end) return fn;  // "f()"
      return fn.substr(0, i) + "(…)" + fn.substr(end);
    }
  }
  return fn;
}

}  // namespace gtest_watchdog_internal
