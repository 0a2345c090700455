// The public API used inside tests: GTEST_WATCHDOG_TIMEOUT's registrar,
// ScopedTimeout and ExtendTimeout. They run on the test's thread and touch
// the deadline board like the listener does (the board has one writer: the
// thread running the tests).

#include <cmath>
#include <cstring>
#include <new>

#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/config/limits.h"
#include "gtest_watchdog/gtest_watchdog.h"
#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog {
namespace internal_api {
namespace {

namespace wi = ::gtest_watchdog_internal;

struct SavedPhase {
  bool valid;
  wi::ArmedPhase phase;
  int64_t entered_ns;
};
static_assert(sizeof(SavedPhase) <= sizeof(ScopedTimeout),
              "ScopedTimeout's storage is too small");

int64_t ClampNs(long double ns) {
  if (!(ns > 0)) return 0;  // also NaN
  constexpr long double kMax = 100.0L * 365 * 24 * 3600 * 1e9L;
  return static_cast<int64_t>(std::llround(ns < kMax ? ns : kMax));
}

constexpr char kScopedOrigin[] = "gtest_watchdog::ScopedTimeout";

}  // namespace

AnnotationRegistrar::AnnotationRegistrar(const char* pattern,
                                         long double limit_ns, const char* file,
                                         int line) {
  wi::RegisteredAnnotations().push_back(
      {pattern == nullptr ? "" : pattern, limit_ns, file, line});
}

void ScopedTimeoutEnter(long double limit_ns, void* saved) {
  auto* s = new (saved) SavedPhase{};
  wi::DeadlineBoard* board = wi::InstalledBoard();
  if (board == nullptr) return;
  s->phase = board->Read();
  if (!s->phase.running()) return;
  s->valid = true;
  s->entered_ns = wi::MonotonicNowNs();
  board->Arm(s->phase.phase, s->phase.subject, s->entered_ns, ClampNs(limit_ns),
             kScopedOrigin);
}

void ScopedTimeoutLeave(const void* saved) {
  const auto* s = static_cast<const SavedPhase*>(saved);
  wi::DeadlineBoard* board = wi::InstalledBoard();
  if (!s->valid || board == nullptr) return;
  // Only if the same phase is still running (a guard that outlives its
  // test must not re-arm a finished one).
  const wi::ArmedPhase now = board->Read();
  if (now.phase != s->phase.phase || now.subject != s->phase.subject) return;
  // Give back the time the phase had left when the guard was made: shift
  // its start by the time spent inside the guard, keep its limit.
  const int64_t inside = wi::MonotonicNowNs() - s->entered_ns;
  board->Arm(s->phase.phase, s->phase.subject, s->phase.start_ns + inside,
             s->phase.limit_ns, s->phase.origin);
}

void ExtendTimeoutBy(long double extra_ns) {
  wi::DeadlineBoard* board = wi::InstalledBoard();
  if (board == nullptr) return;
  const wi::ArmedPhase p = board->Read();
  if (!p.armed()) return;
  board->Arm(p.phase, p.subject, p.start_ns, p.limit_ns + ClampNs(extra_ns),
             p.origin);
}

}  // namespace internal_api
}  // namespace gtest_watchdog
