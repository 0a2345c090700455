#include "gtest_watchdog/diagnose/verdict.h"

#include <sys/syscall.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/progress.h"
#include "gtest_watchdog/diagnose/user_code.h"
#include "gtest_watchdog/dump/signal_info.h"

namespace gtest_watchdog_internal {
namespace {

// Most other threads a "no clear cause" verdict names as candidates.
constexpr size_t kMaxCandidates = 3;
// Most spots a "where the time went" summary names.
constexpr size_t kMaxHotSpots = 3;
// A timed wait with at most this many times the limit left may still let
// the test finish; one with more left is reported as blocked.
constexpr int64_t kWithinReach = 10;
// A timed wait with at most a tenth of the test's elapsed time left, and
// nothing else working, is taken for one turn of a poll.
constexpr int64_t kShortWait = 10;

bool Measured(const ThreadModel& t) {
  return t.raw->cpu_ns >= 0 && t.raw->interval_ns > 0;
}

// Waits outside the process: the thread sits in a system call on a
// descriptor, a child, a timer or a signal — not on another thread.
bool BlockedOutside(const ThreadModel& t) {
  switch (t.call.kind) {
    case BlockKind::kFd:
    case BlockKind::kChild:
    case BlockKind::kSleep:
    case BlockKind::kSignal:
    case BlockKind::kOther:
      return true;
    default:
      return false;
  }
}

// A sanitizer runtime's own thread (ThreadSanitizer's background thread
// sleeps 100 ms at a time): it never notifies the program's conditions.
bool IsSanitizerThread(const ThreadModel& t) {
  if (FirstUserFrame(t.frames) != nullptr) return false;
  for (const SourceFrame& f : t.frames) {
    const std::string& fn = f.function;
    if (fn.rfind("__tsan::", 0) == 0 || fn.rfind("__asan::", 0) == 0 ||
        fn.rfind("__lsan::", 0) == 0 || fn.rfind("__sanitizer::", 0) == 0) {
      return true;
    }
  }
  return false;
}

// Threads that are not the program's: the watchdog writing the report,
// (in a signal report) the thread held in our handler, and a sanitizer's.
bool IsOurs(const ReportModel& m, const ThreadModel& t) {
  return t.raw->status == StackStatus::kSelf || IsSanitizerThread(t) ||
         (m.snapshot->signal.signo != 0 &&
          t.raw->tid == m.snapshot->signal.tid);
}

// A futex wait with a timeout: the thread wakes up by itself, and may then
// notify (a timed condition wait in a loop, a pool worker's idle wait).
bool TimedFutexWait(const ThreadModel& t) {
  const uint64_t op = t.raw->syscall_args[1] & 0x7f;
  return t.raw->syscall_nr == SYS_futex && t.raw->syscall_args[3] != 0 &&
         (op == 0 || op == 9);  // FUTEX_WAIT, FUTEX_WAIT_BITSET
}

// Waits that only another thread ends by a notify, a count-down or a
// release: condition variables, Abseil's LockWhen/Await and events, C++20's
// latches, barriers, semaphores and atomic waits.
bool WaitsForNotify(const LockWait& w) {
  return w.kind == WaitKind::kCondition || w.kind == WaitKind::kEvent;
}

// "on condition variable g_cv (0x...)", "on absl::Notification g_ready
// (0x...), which no thread has notified", "for a Condition on absl::Mutex
// g_mu (0x...)".
std::string NotifyWaitText(const LockWait& w) {
  const char* timed = w.timed ? ", with a timeout" : "";
  if (w.kind == WaitKind::kEvent)
    return absl::StrCat("on ", LockText(w), ", ", EventText(w), timed);
  if (w.condition)
    return absl::StrCat("for a Condition on ", LockText(w), timed);
  return absl::StrCat("on ", LockText(w), timed);
}

// Where the thread is in the user's code: "in f() at file.cc:12", or its
// innermost frame, or "".
std::string WhereText(const ThreadModel& t, SourceFrame* where, bool* found) {
  const SourceFrame* f = FirstUserFrame(t.frames);
  if (f == nullptr && !t.frames.empty()) f = &t.frames.front();
  if (f == nullptr || f->function.empty()) return "";
  *where = *f;
  *found = true;
  std::string text = absl::StrCat("in ", ShortFunction(f->function));
  if (!f->file.empty() && f->line > 0) {
    absl::StrAppend(&text, " at ", Basename(f->file), ":", f->line);
  }
  return text;
}

std::string ShortWhere(const ThreadModel& t) {
  SourceFrame ignored;
  bool found = false;
  return WhereText(t, &ignored, &found);
}

// "thread 11 "main" waits for mutex m (0x..) held by thread 12 "io", which"
// — the chain up to (not including) what its last thread does; just the
// last thread's label for a chain of one.
std::string ChainText(const ReportModel& m, const std::vector<int>& chain) {
  std::string text = ThreadLabel(m.threads[chain[0]]);
  for (size_t i = 1; i < chain.size(); ++i) {
    const ThreadModel& from = m.threads[chain[i - 1]];
    const ThreadModel& to = m.threads[chain[i]];
    if (from.wait.kind == WaitKind::kJoin) {
      absl::StrAppend(&text, " waits to join ", ThreadLabel(to), ", which");
    } else {
      absl::StrAppend(&text, " waits for ", LockText(from.wait), " held by ",
                      ThreadLabel(to), ", which");
    }
  }
  return text;
}

// What a waiting thread does, as the end of a sentence: "waits in read() on
// fd 3: pipe (...)", "is running, not waiting (99% of a CPU over 0.25 s)".
std::string DoingText(const ReportModel& m, const ThreadModel& t) {
  if (IsBusy(t)) {
    // On a loaded machine a spinning thread also waits for a CPU.
    const int queued = QueuedPercent(t);
    return absl::StrFormat(
        "is running, not waiting (%d%% of a CPU over %s%s)", CpuPercent(t),
        DurationText(t.raw->interval_ns),
        queued >= 10 ? absl::StrFormat(", and %d%% waiting for one", queued)
                     : "");
  }
  if (!t.call.text.empty()) return absl::StrCat("waits in ", t.call.text);
  const std::string wait = WaitText(m, t);
  if (!wait.empty()) return "is " + wait;
  if (t.call.kind == BlockKind::kFutex) {
    return absl::StrFormat(
        "waits on futex 0x%x, which is no lock with a known owner (a "
        "semaphore, a custom lock or event)",
        t.raw->syscall_args[0]);
  }
  if (t.raw->state == 'R') return "is runnable but barely ran";
  return absl::StrCat("is ", StateName(t.raw->state));
}

// DoingText after "now": "waits in read() …", "waiting on condition …".
std::string NowDoing(const ReportModel& m, const ThreadModel& t) {
  std::string doing = DoingText(m, t);
  if (doing.rfind("is ", 0) == 0) doing.erase(0, 3);
  return doing;
}

std::string Candidate(const ReportModel& m, const ThreadModel& t) {
  const std::string where = ShortWhere(t);
  // Woken up in the window, back in the same spot: a poll.
  const bool polls = t.motion == Motion::kSameSpot && !IsBusy(t);
  return absl::StrCat(ThreadLabel(t), ", which ",
                      polls ? "keeps polling in one spot, now " + NowDoing(m, t)
                            : DoingText(m, t),
                      where.empty() ? "" : ", " + where);
}

// The wait chain from `start`: owners of the locks waited for, joined
// threads; stops at a thread with no known owner to go to, or a repeat.
std::vector<int> WaitChain(const ReportModel& m, int start) {
  std::vector<int> chain = {start};
  std::set<int> seen = {start};
  for (;;) {
    const ThreadModel& t = m.threads[chain.back()];
    const WaitKind k = t.wait.kind;
    const bool edge = k == WaitKind::kMutex || k == WaitKind::kRwlockRead ||
                      k == WaitKind::kRwlockWrite || k == WaitKind::kJoin;
    if (!edge || t.wait.owner == 0) break;
    const int next = m.IndexOf(t.wait.owner);
    if (next < 0 || !seen.insert(next).second) break;
    chain.push_back(next);
  }
  return chain;
}

void Deadlock(const ReportModel& m, Verdict* v) {
  // The cycle the test thread's chain runs into, else the first.
  const DeadlockCycle* cycle = &m.cycles.front();
  std::vector<int> lead;
  if (m.test_thread >= 0) {
    const std::vector<int> chain = WaitChain(m, m.test_thread);
    for (const DeadlockCycle& c : m.cycles) {
      const auto hit = std::find_first_of(chain.begin(), chain.end(),
                                          c.threads.begin(), c.threads.end());
      if (hit != chain.end()) {
        cycle = &c;
        lead.assign(chain.begin(), hit);
        // Start the cycle where the chain enters it.
        std::vector<int> rotated = c.threads;
        std::rotate(rotated.begin(),
                    std::find(rotated.begin(), rotated.end(), *hit),
                    rotated.end());
        v->chain = lead;
        v->chain.insert(v->chain.end(), rotated.begin(), rotated.end());
        break;
      }
    }
  }
  if (v->chain.empty()) v->chain = cycle->threads;
  v->kind = VerdictKind::kDeadlock;
  const std::vector<int> ring(
      v->chain.begin() + static_cast<std::ptrdiff_t>(lead.size()),
      v->chain.end());
  v->culprit = ring.front();
  std::vector<std::string> labels, locks, wheres;
  for (size_t i = 0; i < ring.size(); ++i) {
    const ThreadModel& t = m.threads[ring[i]];
    labels.push_back(ThreadLabel(t));
    locks.push_back(LockText(t.wait));
    SourceFrame where;
    bool found = false;
    const std::string w = WhereText(t, &where, &found);
    if (i == 0 && found) {
      v->where = where;
      v->has_where = true;
    }
    if (!w.empty()) wheres.push_back(absl::StrCat(t.raw->tid, " ", w));
  }
  std::string text = "deadlock: ";
  if (ring.size() == 1) {
    absl::StrAppend(&text, labels[0], " waits for ", locks[0],
                    ", which it holds itself");
  } else if (ring.size() == 2) {
    absl::StrAppend(&text, labels[0], " and ", labels[1],
                    " each hold a lock the other waits for: ", locks[0],
                    " and ", locks[1]);
  } else {
    absl::StrAppend(&text, absl::StrJoin(labels, ", "),
                    " wait for each other in a cycle over ",
                    absl::StrJoin(locks, ", "));
  }
  if (!wheres.empty()) {
    absl::StrAppend(&text, " — ", absl::StrJoin(wheres, "; "));
  }
  if (!lead.empty()) {
    // How the test gets there: "thread 1 "main" waits to join thread 2".
    std::vector<int> path = lead;
    path.push_back(ring.front());
    std::string how = ChainText(m, path);
    how.resize(how.size() - std::string(", which").size());
    absl::StrAppend(&text, "; ", how);
  }
  v->text = text;
}

// A wait that ends by itself: a sleep, a timed futex wait, a poll or epoll
// with a timeout. `left` gets the time left when known, else -1.
bool TimedWait(const ThreadModel& t, int64_t* left) {
  *left = -1;
  if (t.call.kind == BlockKind::kSleep) {
    *left = t.call.sleep_ns;
    return true;
  }
  if (TimedFutexWait(t)) {
    *left = t.call.timeout_left_ns;
    return true;
  }
  if (t.call.kind == BlockKind::kFd && t.call.timeout_ms > 0) {
    *left = t.call.timeout_ms * 1000000;
    return true;
  }
  return false;
}

// The verdict "slow, not stuck": `what` says what the culprit does; the
// working threads (and the culprit, if it works itself) are summarised.
void Slow(const ReportModel& m, const std::vector<int>& working,
          bool culprit_works, const std::string& what, Verdict* v) {
  v->kind = VerdictKind::kSlow;
  std::vector<int> counted = working;
  if (culprit_works) counted.insert(counted.begin(), v->culprit);
  v->time_spent = SummarizeSamples(m, counted, kMaxHotSpots);
  v->text = absl::StrCat("slow, not stuck: ", what);
  if (!working.empty()) {
    absl::StrAppend(
        &v->text, "; meanwhile ", working.size(),
        working.size() == 1 ? " other thread works" : " other threads work",
        ", their stacks moving between samples");
  }
  if (!v->time_spent.spots.empty()) {
    absl::StrAppend(&v->text, " — ", TimeSpentText(v->time_spent));
  }
}

}  // namespace

int CpuPercent(const ThreadModel& t) {
  if (!Measured(t)) return 0;
  return static_cast<int>(
      std::lround(100.0 * static_cast<double>(t.raw->cpu_ns) /
                  static_cast<double>(t.raw->interval_ns)));
}

int QueuedPercent(const ThreadModel& t) {
  if (!Measured(t) || t.raw->queued_ns < 0) return 0;
  return static_cast<int>(
      std::lround(100.0 * static_cast<double>(t.raw->queued_ns) /
                  static_cast<double>(t.raw->interval_ns)));
}

bool IsBusy(const ThreadModel& t) {
  if (!Measured(t) || t.raw->cpu_ns <= 0) return false;
  if (static_cast<double>(t.raw->cpu_ns) <
      kBusyCpuShare * static_cast<double>(t.raw->interval_ns)) {
    return false;
  }
  const double runnable =
      static_cast<double>(t.raw->cpu_ns) +
      static_cast<double>(std::max<int64_t>(t.raw->queued_ns, 0));
  return runnable >= kBusyShare * static_cast<double>(t.raw->interval_ns);
}

bool IsSlow(const ThreadModel& t) {
  return Measured(t) && !IsBusy(t) && t.raw->wakeups >= kSlowWakeups;
}

Verdict DecideVerdict(const ReportModel& m) {
  Verdict v;
  const Snapshot& snap = *m.snapshot;
  if (m.threads.empty()) {
    v.kind = VerdictKind::kNoClearCause;
    v.text = "no clear cause: no thread of the process could be read";
    return v;
  }
  const int signalled =
      snap.signal.signo != 0 ? m.IndexOf(snap.signal.tid) : -1;
  if (snap.kind == "crash") {
    v.kind = VerdictKind::kCrash;
    v.culprit = signalled;
    if (signalled >= 0) {
      v.chain = {signalled};
      const std::string w =
          WhereText(m.threads[signalled], &v.where, &v.has_where);
      v.text =
          absl::StrCat("crash: ", ThreadLabel(m.threads[signalled]), " got ",
                       SignalName(snap.signal.signo), w.empty() ? "" : " " + w);
    } else {
      v.text = absl::StrCat("crash: ", SignalName(snap.signal.signo));
    }
    return v;
  }
  if (!m.cycles.empty()) {
    Deadlock(m, &v);
    return v;
  }

  // Whose wait matters: the thread running the test, else the main thread.
  int start = m.test_thread;
  if (start < 0) start = m.IndexOf(snap.pid);
  if (start < 0) start = 0;
  v.chain = WaitChain(m, start);
  const int end = v.chain.back();
  v.culprit = end;
  const ThreadModel& e = m.threads[end];
  const std::string where = WhereText(e, &v.where, &v.has_where);
  const std::string at = where.empty() ? "" : ", " + where;
  const std::string lead = ChainText(m, v.chain);

  // Others that could be what the end waits for, in thread order.
  // Progress elsewhere, `working`: threads that ran in the CPU window and
  // whose stacks moved between samples (docs/verdict.md, "Evidence over
  // time").
  std::vector<int> busy, outside, working;
  for (size_t i = 0; i < m.threads.size(); ++i) {
    const ThreadModel& t = m.threads[i];
    if (static_cast<int>(i) == end || IsOurs(m, t)) continue;
    if (std::find(v.chain.begin(), v.chain.end(), static_cast<int>(i)) !=
        v.chain.end()) {
      continue;
    }
    // Busy or crawling threads first: they are doing something. A thread
    // waiting for a signal is not counted (signal-handling threads wait for
    // ever by design).
    if (t.motion == Motion::kMoved) working.push_back(static_cast<int>(i));
    if (IsBusy(t) || IsSlow(t)) {
      busy.push_back(static_cast<int>(i));
    } else if ((BlockedOutside(t) && t.call.kind != BlockKind::kSignal) ||
               TimedFutexWait(t)) {
      outside.push_back(static_cast<int>(i));
    }
  }
  auto name_candidates = [&](std::string* text) {
    std::vector<std::string> parts;
    for (const std::vector<int>* list : {&busy, &outside}) {
      for (int i : *list) {
        if (v.candidates.size() >= kMaxCandidates) break;
        v.candidates.push_back(i);
        parts.push_back(Candidate(m, m.threads[i]));
      }
    }
    const size_t more = busy.size() + outside.size() - v.candidates.size();
    absl::StrAppend(text, absl::StrJoin(parts, "; or "));
    if (more > 0) absl::StrAppend(text, "; or ", more, " more");
  };

  // The thread the reported signal interrupted sits in our handler: its
  // CPU use says nothing, and its call is known only if the kernel was
  // going to restart it (InterruptedSyscall).
  if (end == signalled) {
    const std::string sig = SignalName(snap.signal.signo);
    if (BlockedOutside(e)) {
      v.kind = VerdictKind::kBlocked;
      v.text = absl::StrCat("blocked: ", lead, " was waiting, when ", sig,
                            " came, in ", e.call.text, at);
      return v;
    }
    v.kind = VerdictKind::kNoClearCause;
    if (e.call.kind == BlockKind::kRunning) {
      v.text = absl::StrCat("no clear cause: ", lead,
                            " was running (not in a system call) when ", sig,
                            " came", at,
                            "; whether it was looping cannot be measured "
                            "while it is held for the report");
    } else if (e.wait.kind != WaitKind::kNone) {
      v.text = absl::StrCat("no clear cause: ", lead, " was ", WaitText(m, e),
                            ", when ", sig, " came", at);
    } else {
      v.text = absl::StrCat("no clear cause: ", lead, " was interrupted by ",
                            sig, where.empty() ? "" : " " + where,
                            ", so what it waited for is not known");
    }
    if (!busy.empty() || !outside.empty()) {
      absl::StrAppend(&v.text, "; it may be waiting for ");
      name_candidates(&v.text);
    }
    return v;
  }
  const int samples = 1 + static_cast<int>(e.samples.size());
  if (IsBusy(e)) {
    if (e.motion == Motion::kMoved) {
      Slow(m, working, true,
           absl::StrFormat("%s is working (%d%% of a CPU), its stack moving "
                           "between samples%s",
                           lead, CpuPercent(e), at),
           &v);
      return v;
    }
    if (!working.empty() && AcquiringALock(e)) {
      // Spinning for a lock other threads take and release as they work:
      // contention, not a loop that gets nowhere.
      Slow(m, working, false,
           absl::StrFormat("%s spins for a lock (%d%% of a CPU)%s", lead,
                           CpuPercent(e), at),
           &v);
      return v;
    }
    v.kind = VerdictKind::kBusy;
    v.text = absl::StrCat("busy: ", lead, " ", DoingText(m, e), at);
    if (e.motion == Motion::kSameSpot) {
      absl::StrAppend(&v.text, ", the same spot in all ", samples, " samples");
    }
    return v;
  }
  int64_t left = -1;
  const bool timed = TimedWait(e, &left);
  if (IsSlow(e) || (timed && e.motion == Motion::kSameSpot)) {
    // It keeps waking up. Moving, or while others work: progress. In one
    // spot with nothing else moving: a poll for something that never comes.
    const std::string woke = absl::StrFormat(
        "woke up %d times in %s, using %d%% of a CPU", e.raw->wakeups,
        DurationText(e.raw->interval_ns), CpuPercent(e));
    if (e.motion == Motion::kMoved || !working.empty()) {
      Slow(m, working, e.motion == Motion::kMoved,
           absl::StrCat(lead, " keeps waking up (", woke, ")",
                        e.motion == Motion::kMoved
                            ? ", its stack moving between samples"
                            : "",
                        at),
           &v);
      return v;
    }
    v.kind = VerdictKind::kPolling;
    v.text = absl::StrCat(
        "polling: ", lead, " keeps waking up in the same spot (", woke,
        "), now ", NowDoing(m, e), at,
        ", and no other thread makes progress: it may be polling for "
        "something that never happens");
    return v;
  }
  // A short wait in a long test cannot be what the test spent its time
  // on: most likely one turn of a poll slower than the CPU window (which
  // then sees no wake-up).
  const int64_t window =
      e.raw->interval_ns > 0 ? e.raw->interval_ns : int64_t{100000000};
  if (timed && working.empty() && left >= 0 && left <= window &&
      snap.elapsed_ns > 0 && left * kShortWait <= snap.elapsed_ns) {
    v.kind = VerdictKind::kPolling;
    v.text = absl::StrCat(
        "polling: ", lead, " ", DoingText(m, e), at,
        " — a short wait in a "
        "test running for ",
        DurationText(snap.elapsed_ns),
        ": most likely one turn of a poll, and no other thread makes "
        "progress: it may be polling for something that never happens");
    return v;
  }
  // Within reach: a sleep of an hour under a limit of a second is a hang
  // by another name.
  if (timed && (!working.empty() || left < 0 || snap.limit_ns <= 0 ||
                left <= kWithinReach * snap.limit_ns)) {
    // One long wait that ends by itself: the test may still finish.
    std::string what = absl::StrCat(lead, " ", DoingText(m, e));
    if (e.call.kind != BlockKind::kSleep && left >= 0) {
      absl::StrAppend(&what, " (a timed wait, ", DurationText(left), " left)");
    }
    absl::StrAppend(&what, at, ": it may still finish");
    if (snap.limit_ns > 0) {
      absl::StrAppend(&what, "; the limit (", DurationText(snap.limit_ns),
                      ") may be too short");
    }
    Slow(m, working, false, what, &v);
    return v;
  }
  if (!working.empty() && !BlockedOutside(e)) {
    // Waits inside the process (a condition, an event, a lock whose owner
    // is not known) while other threads work: most likely for their work.
    Slow(m, working, false, absl::StrCat(lead, " ", DoingText(m, e), at), &v);
    return v;
  }
  if (BlockedOutside(e)) {
    v.kind = VerdictKind::kBlocked;
    v.text = absl::StrCat("blocked: ", lead, " ", DoingText(m, e), at);
    return v;
  }
  if (WaitsForNotify(e.wait) && busy.empty() && outside.empty()) {
    v.kind = VerdictKind::kNotify;
    v.text = absl::StrCat(
        "waiting for a notify: ", lead, " waits ", NotifyWaitText(e.wait), at,
        ", and no other thread is running or waiting on anything outside the "
        "process: nothing may ever notify it");
    return v;
  }
  const int lone = busy.size() + outside.size() == 1
                       ? (busy.empty() ? outside[0] : busy[0])
                       : -1;
  // It polls: back in one spot after waking up, or (no second sample, say
  // it did not answer in time) woken up again and again into a timed wait.
  int64_t lone_left = -1;
  const bool lone_polls =
      lone >= 0 && !IsBusy(m.threads[lone]) &&
      (m.threads[lone].motion == Motion::kSameSpot ||
       (m.threads[lone].motion == Motion::kUnknown && IsSlow(m.threads[lone]) &&
        TimedWait(m.threads[lone], &lone_left)));
  if (WaitsForNotify(e.wait) && lone_polls) {
    // Waiting for a notify, and the only thread doing anything polls in
    // one spot: the notify would come after that poll, which never ends.
    const ThreadModel& p = m.threads[lone];
    v.kind = VerdictKind::kPolling;
    v.culprit = lone;
    v.candidates = {lone};
    v.has_where = false;
    const std::string poll_at = WhereText(p, &v.where, &v.has_where);
    v.text = absl::StrCat(
        "polling: ", ThreadLabel(p), " keeps waking up in the same spot, now ",
        NowDoing(m, p), poll_at.empty() ? "" : ", " + poll_at, ", while ", lead,
        " waits ", NotifyWaitText(e.wait), at,
        ", and nothing else runs: the notify most likely waits for that poll, "
        "which never ends");
    return v;
  }
  v.kind = VerdictKind::kNoClearCause;
  v.text = absl::StrCat("no clear cause: ", lead, " ", DoingText(m, e), at);
  if (!busy.empty() || !outside.empty()) {
    absl::StrAppend(&v.text, "; it may be waiting for ");
    name_candidates(&v.text);
  } else {
    absl::StrAppend(&v.text,
                    "; no thread is busy, blocked outside the process or in a "
                    "deadlock");
  }
  return v;
}

}  // namespace gtest_watchdog_internal
